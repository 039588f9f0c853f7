"""Size limits shared by event validation and the collection schema (Milvus VARCHAR lengths count UTF-8 bytes).

Validation rejects anything over these limits with a clear reason, so a row that passed validation always fits.
"""

SKU_MAX_BYTES = 256
GROUP_ID_MAX_BYTES = 256       # the parent listing of variants; like a sku
TENANT_MAX_BYTES = 64
LOCALE_MAX_BYTES = 32
TITLE_MAX_BYTES = 2_048
DESCRIPTION_MAX_BYTES = 32_768
BRAND_MAX_BYTES = 256
CATEGORY_MAX_BYTES = 1_024
CATEGORY_MAX_LEVELS = 8
CURRENCY_MAX_BYTES = 8
ATTRIBUTES_MAX_BYTES = 8_192       # JSON-encoded
EMBED_TEXT_MAX_BYTES = 8_192       # title + brand + category + key attributes + bounded description
TEXT_HASH_BYTES = 32
VERSION_MAX = 2 ** 63 - 1          # the collection stores versions as INT64
