#!/usr/bin/env python3
"""Generate the sample product catalog used by `make demo` and the tests (stdlib only, deterministic).

Writes two JSON-lines files of catalog events:

* ``catalog/data/sample_catalog.jsonl``  -- one ``upsert`` (version 1) per sku: zh-CN/CNY and en-US/USD products plus
  a few ja-JP/JPY and de-DE/EUR ones, in ten top-level categories, and an ``outlet`` tenant (~10%) that re-lists some
  default products at outlet prices under its own skus.
* ``catalog/data/sample_changes.jsonl`` -- a follow-up change stream over the same skus: price/stock patches, a few
  title/description patches (need re-embedding), deletes, two brand-new products and one stale event.

The product lines below are hand-written; the seeded RNG only picks warehouses, stock flags, the outlet subset and the
change stream.  Running the script twice gives byte-identical files.

    python scripts/make_sample_catalog.py [--out-dir catalog/data] [--check]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from collections import Counter, defaultdict
from pathlib import Path

SEED = 20240611
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "catalog" / "data"

# --------------------------------------------------------------------------------------------------------------------
# Category trees. One key per leaf; English path for en-US/ja-JP/de-DE, Chinese path for zh-CN. Both trees have the same
# shape, so every zh leaf maps to exactly one en leaf.
# --------------------------------------------------------------------------------------------------------------------
TOP = {
    "app": ("APP", "Apparel", "服装"),
    "ele": ("ELE", "Electronics", "数码电子"),
    "home": ("HOM", "Home & Kitchen", "家居厨房"),
    "tool": ("TLS", "Tools & Home Improvement", "五金工具"),
    "sport": ("SPO", "Sports & Outdoors", "运动户外"),
    "beauty": ("BEA", "Beauty", "美妆个护"),
    "toy": ("TOY", "Toys", "玩具"),
    "groc": ("GRO", "Grocery", "食品饮料"),
    "book": ("BOK", "Books", "图书"),
    "furn": ("FUR", "Furniture", "家具"),
}

LEAVES = {
    "app/men/tee": ("Men > T-Shirts", "男装 > T恤"),
    "app/men/polo": ("Men > Polos", "男装 > POLO衫"),
    "app/men/jeans": ("Men > Jeans", "男装 > 牛仔裤"),
    "app/men/coats": ("Men > Jackets & Coats", "男装 > 外套"),
    "app/women/dresses": ("Women > Dresses", "女装 > 连衣裙"),
    "app/women/sweaters": ("Women > Sweaters", "女装 > 毛衣针织衫"),
    "app/women/coats": ("Women > Jackets & Coats", "女装 > 外套"),
    "app/women/active": ("Women > Activewear", "女装 > 运动服"),
    "app/shoes/sneakers": ("Shoes > Sneakers", "鞋靴 > 运动休闲鞋"),
    "app/shoes/boots": ("Shoes > Boots", "鞋靴 > 靴子"),
    "app/acc/bags": ("Accessories > Backpacks", "配饰 > 双肩包"),
    "ele/phones": ("Phones > Smartphones", "手机 > 智能手机"),
    "ele/audio/headphones": ("Audio > Headphones", "音频 > 耳机"),
    "ele/audio/speakers": ("Audio > Speakers", "音频 > 音箱"),
    "ele/computers/laptops": ("Computers > Laptops", "电脑 > 笔记本电脑"),
    "ele/computers/acc": ("Computers > Keyboards & Mice", "电脑 > 键盘鼠标"),
    "ele/power": ("Accessories > Chargers & Power Banks", "配件 > 充电器与移动电源"),
    "ele/wearables": ("Wearables > Smartwatches", "智能穿戴 > 智能手表"),
    "ele/cameras": ("Cameras > Mirrorless Cameras", "摄影摄像 > 微单相机"),
    "home/coffee": ("Kitchen Appliances > Coffee Machines", "厨房电器 > 咖啡机"),
    "home/airfryer": ("Kitchen Appliances > Air Fryers", "厨房电器 > 空气炸锅"),
    "home/rice": ("Kitchen Appliances > Rice Cookers", "厨房电器 > 电饭煲"),
    "home/blender": ("Kitchen Appliances > Blenders", "厨房电器 > 破壁料理机"),
    "home/cookware": ("Cookware > Pots & Pans", "锅具 > 炒锅煎锅"),
    "home/bedding": ("Bedding > Sheet Sets", "床上用品 > 床品套件"),
    "home/vacuum": ("Home Appliances > Vacuums", "家用电器 > 吸尘器"),
    "home/drinkware": ("Drinkware > Tumblers & Bottles", "水杯 > 保温杯"),
    "tool/drills": ("Power Tools > Drills", "电动工具 > 电钻"),
    "tool/saws": ("Power Tools > Saws", "电动工具 > 电锯"),
    "tool/sets": ("Hand Tools > Tool Sets", "手动工具 > 工具套装"),
    "tool/measure": ("Hand Tools > Measuring Tools", "手动工具 > 测量工具"),
    "tool/bulbs": ("Lighting > Light Bulbs", "照明 > 灯泡"),
    "tool/security": ("Smart Home > Locks & Security", "智能家居 > 门锁安防"),
    "tool/hardware": ("Hardware > Lubricants", "五金配件 > 润滑除锈"),
    "sport/tents": ("Camping > Tents", "露营 > 帐篷"),
    "sport/sleeping": ("Camping > Sleeping Bags", "露营 > 睡袋"),
    "sport/coolers": ("Camping > Coolers", "露营 > 保温箱"),
    "sport/yoga": ("Fitness > Yoga Mats", "健身 > 瑜伽垫"),
    "sport/weights": ("Fitness > Dumbbells", "健身 > 哑铃"),
    "sport/helmets": ("Cycling > Helmets", "骑行 > 头盔"),
    "sport/jackets": ("Outdoor Clothing > Rain Jackets", "户外服装 > 冲锋衣"),
    "sport/running": ("Running > Running Shoes", "跑步 > 跑鞋"),
    "sport/balls": ("Team Sports > Basketballs", "球类 > 篮球"),
    "beauty/moist": ("Skincare > Moisturizers", "护肤 > 面霜乳液"),
    "beauty/serum": ("Skincare > Serums", "护肤 > 精华"),
    "beauty/sun": ("Skincare > Sunscreen", "护肤 > 防晒"),
    "beauty/lips": ("Makeup > Lipstick", "彩妆 > 口红"),
    "beauty/foundation": ("Makeup > Foundation", "彩妆 > 粉底"),
    "beauty/hair": ("Hair Care > Shampoo", "洗护发 > 洗发水"),
    "beauty/brush": ("Personal Care > Electric Toothbrushes", "个人护理 > 电动牙刷"),
    "beauty/dryer": ("Personal Care > Hair Dryers", "个人护理 > 吹风机"),
    "beauty/fragrance": ("Fragrance", "香水"),
    "toy/building": ("Building Sets", "积木拼插"),
    "toy/plush": ("Dolls & Plush", "毛绒公仔"),
    "toy/rc": ("Vehicles > Remote Control", "车模玩具 > 遥控车"),
    "toy/diecast": ("Vehicles > Die-Cast Cars", "车模玩具 > 合金车"),
    "toy/games": ("Games > Board Games", "游戏 > 桌游"),
    "toy/puzzles": ("Games > Jigsaw Puzzles", "游戏 > 拼图"),
    "toy/stem": ("Educational > STEM Kits", "益智玩具 > 科学实验"),
    "groc/coffee": ("Beverages > Coffee", "饮料冲调 > 咖啡"),
    "groc/tea": ("Beverages > Tea", "饮料冲调 > 茶叶"),
    "groc/drinks": ("Beverages > Water & Soft Drinks", "饮料冲调 > 饮用水与汽水"),
    "groc/chips": ("Snacks > Chips & Crisps", "休闲零食 > 薯片膨化"),
    "groc/nuts": ("Snacks > Nuts", "休闲零食 > 坚果"),
    "groc/rice": ("Pantry > Rice & Grains", "粮油调味 > 米面杂粮"),
    "groc/oil": ("Pantry > Cooking Oil", "粮油调味 > 食用油"),
    "groc/sauce": ("Pantry > Sauces & Condiments", "粮油调味 > 酱油调味"),
    "groc/milk": ("Dairy > Milk", "乳品 > 牛奶"),
    "book/scifi": ("Fiction > Science Fiction", "小说 > 科幻小说"),
    "book/literary": ("Fiction > Literary Fiction", "小说 > 文学小说"),
    "book/selfhelp": ("Nonfiction > Self-Help", "非虚构 > 励志成长"),
    "book/history": ("Nonfiction > History", "非虚构 > 历史"),
    "book/kids": ("Children's Books", "童书"),
    "book/tech": ("Computers & Technology", "计算机 > 编程开发"),
    "furn/chairs": ("Office > Office Chairs", "办公家具 > 办公椅"),
    "furn/desks": ("Office > Desks", "办公家具 > 电脑桌"),
    "furn/sofas": ("Living Room > Sofas", "客厅家具 > 沙发"),
    "furn/tables": ("Living Room > Coffee Tables", "客厅家具 > 茶几"),
    "furn/shelves": ("Storage > Bookcases & Shelves", "收纳家具 > 书架置物架"),
    "furn/mattress": ("Bedroom > Mattresses", "卧室家具 > 床垫"),
    "furn/beds": ("Bedroom > Bed Frames", "卧室家具 > 床"),
}

# Attribute values are canonical English facet values in every locale (so a color filter works across languages);
# the labels are what goes into the titles.
COLORS = {
    "black": ("Black", "黑色"), "white": ("White", "白色"), "navy": ("Navy", "藏青色"), "gray": ("Gray", "灰色"),
    "red": ("Red", "红色"), "blue": ("Blue", "蓝色"), "green": ("Green", "绿色"), "beige": ("Beige", "米色"),
    "pink": ("Pink", "粉色"), "silver": ("Silver", "银色"), "brown": ("Brown", "棕色"), "yellow": ("Yellow", "黄色"),
    "camel": ("Camel", "驼色"), "purple": ("Purple", "紫色"), "khaki": ("Khaki", "卡其色"),
}

WAREHOUSES = {
    "zh-CN": ["SH-01", "SH-01", "GZ-02", "BJ-01", "CD-01"],
    "en-US": ["NJ-01", "NJ-01", "CA-02", "TX-01"],
    "ja-JP": ["JP-OSK-1"],
    "de-DE": ["DE-FRA-1"],
}
OUTLET_WAREHOUSES = {"zh-CN": "OUTLET-SH", "en-US": "OUTLET-NV"}
CURRENCY = {"zh-CN": "CNY", "en-US": "USD", "ja-JP": "JPY", "de-DE": "EUR"}
SKU_PREFIX = {"zh-CN": "ZH", "en-US": "EN", "ja-JP": "JA", "de-DE": "DE"}

ITEMS: list[dict] = []


def P(cat, brand, *, en=None, zh=None, den="", dzh="", usd=None, cny=None, a=None, v=None, ven=None, vzh=None,
      w=None, wm=None, bzh=None, ja=None, de=None, key=None):
    """One product line. ``v``: variants (COLORS keys, or (en_label, zh_label, attrs[, usd, cny]) tuples), used for
    both locales unless ``ven``/``vzh`` override. ``ja``/``de``: (title, description, price[, brand[, attrs]]) of one
    extra listing that takes the first variant's attributes (``attrs`` overrides them). ``{v}`` in a title marks where the variant label goes."""
    assert cat in LEAVES, cat
    ITEMS.append(dict(cat=cat, brand=brand, en=en, zh=zh, den=den, dzh=dzh, usd=usd, cny=cny, a=a or {}, v=v,
                      ven=ven, vzh=vzh, w=w, wm=wm, bzh=bzh, ja=ja, de=de, key=key))


# ==================================================== Apparel =======================================================
P("app/men/tee", "Uniqlo", key="uniqlo_tee",
  en="Uniqlo Men's Supima Cotton Crew Neck Short-Sleeve T-Shirt",
  zh="优衣库 男装 SUPIMA COTTON 圆领T恤 短袖",
  den="Soft, smooth Supima cotton jersey with a clean crew neckline. A wardrobe staple that keeps its shape wash after "
      "wash.",
  dzh="采用SUPIMA超长绒棉面料，手感柔滑细腻，圆领设计简洁百搭。多次洗涤后依然挺括有型。",
  usd=19.90, cny=79, a={"material": "cotton", "gender": "men", "style": "casual", "pattern": "solid",
                        "size": ["S", "M", "L", "XL", "XXL"]},
  v=["black", "white", "navy"], vzh=["black", "white"], w=180)
P("app/men/tee", "李宁",
  zh="李宁 男子 速干短袖T恤 {v} 冰感透气运动健身跑步上衣",
  dzh="轻薄速干面料，吸湿排汗快，冰感触感清爽透气。适合跑步、健身和日常穿着。",
  cny=89, a={"material": "polyester", "gender": "men", "style": "athletic", "size": ["M", "L", "XL", "XXL"]},
  v=["black"], w=150)
P("app/men/polo", "Ralph Lauren",
  en="Polo Ralph Lauren Men's Custom Slim Fit Mesh Polo Shirt",
  zh="Polo Ralph Lauren 拉夫劳伦 男士 修身网眼棉 POLO衫",
  den="The iconic cotton mesh polo in a trim custom slim fit, finished with the embroidered signature Pony. Ribbed "
      "collar and armbands with a two-button placket.",
  dzh="经典棉质网眼面料，修身剪裁，胸前刺绣小马标志。罗纹领口与袖口，两粒扣门襟设计。",
  usd=110, cny=1090, a={"material": "cotton mesh", "gender": "men", "style": "preppy", "pattern": "solid"},
  v=["navy"], vzh=["navy"], w=250)
P("app/men/jeans", "Levi's", key="levis501",
  en="Levi's Men's 501 Original Fit Jeans",
  zh="Levi's 李维斯 男士 501经典直筒牛仔裤",
  den="The original button-fly jean since 1873, straight through the seat and thigh with a sits-at-waist rise. Made "
      "from durable 100% cotton denim.",
  dzh="1873年诞生的经典纽扣门襟牛仔裤，臀部与大腿直筒剪裁，中腰设计。100%纯棉丹宁面料，耐穿有型。",
  usd=69.50, cny=699, a={"material": "denim", "gender": "men", "style": "straight", "size": ["30", "32", "34", "36"]},
  v=[("Dark Stonewash", "深石洗蓝", {"color": "blue"}), ("Black", "黑色", {"color": "black"})], w=650)
P("app/men/coats", "The North Face", key="nuptse",
  en="The North Face Men's 1996 Retro Nuptse Jacket",
  zh="北面 The North Face 1996 Nuptse 男款 经典复刻羽绒服",
  den="A '90s icon with boxy baffles filled with 700-fill goose down and a hood that stows in the collar. The "
      "water-repellent ripstop shell handles cold city days.",
  dzh="经典90年代廓形，填充700蓬松度鹅绒，帽子可收纳于领内。防泼水格纹面料，冬季城市出行保暖首选。",
  usd=330, cny=2999, a={"material": "goose down", "gender": "men", "style": "puffer"},
  v=["black", ("Summit Gold", "金黄色", {"color": "yellow"})], w=900,
  ja=("ザ・ノース・フェイス ヌプシジャケット メンズ ND92335 ブラック",
      "700フィルパワーのグースダウンを封入した定番ダウンジャケット。フードは襟に収納できます。", 41800))
P("app/women/dresses", "Zara",
  en="ZARA Women's Satin Effect Midi Slip Dress",
  zh="ZARA 女装 缎面质感 中长款吊带连衣裙",
  den="Midi dress with a V-neckline and thin adjustable straps in a fluid satin-effect fabric. Dress it up with heels "
      "or layer it over a tee.",
  dzh="V领细肩带设计，肩带可调节，垂坠缎面质感面料。搭配高跟鞋或内搭T恤都好看。",
  usd=49.90, cny=399, a={"material": "polyester satin", "gender": "women", "style": "elegant", "pattern": "solid"},
  v=["black"], vzh=["black"], w=220)
P("app/women/dresses", "Amazon Essentials",
  en="Amazon Essentials Women's Short-Sleeve Crewneck Swing Dress",
  den="A flattering swing silhouette in soft, stretchy jersey that skims the body. Easy to wear and machine washable.",
  usd=23.90, a={"material": "rayon jersey", "gender": "women", "style": "casual"},
  v=[("Navy", "", {"color": "navy", "pattern": "solid"})], w=240)
P("app/women/dresses", "伊芙丽",
  zh="伊芙丽 2024夏季新款 法式碎花雪纺连衣裙 {v} 收腰显瘦",
  dzh="法式复古碎花印花，轻盈雪纺面料，收腰设计修饰身形。适合度假和日常约会穿着。",
  cny=459, a={"material": "chiffon", "gender": "women", "style": "french", "pattern": "floral"},
  v=[("Blue Floral", "蓝色碎花", {"color": "blue"})], w=260)
P("app/women/sweaters", "Naadam",
  en="Naadam Women's Essential Cashmere Crewneck Sweater",
  den="Grade-A Mongolian cashmere knit into a relaxed crewneck. Lightweight, warm and soft enough to wear year-round.",
  usd=98, a={"material": "cashmere", "gender": "women", "style": "crewneck"},
  v=[("Heather Grey", "", {"color": "gray"})], w=280)
P("app/women/sweaters", "鄂尔多斯",
  zh="鄂尔多斯 ERDOS 女士 100%山羊绒 圆领套头毛衣 {v}",
  dzh="精选内蒙古山羊绒，细腻柔软，轻薄保暖。经典圆领设计，可单穿也可作为内搭。",
  cny=1580, a={"material": "cashmere", "gender": "women", "style": "crewneck"}, v=["camel"], w=300)
P("app/women/coats", "波司登",
  zh="波司登 女士 中长款连帽羽绒服 {v} 冬季加厚保暖",
  dzh="90%白鹅绒填充，中长款过膝设计，连帽防风。面料防泼水，适合零下低温天气穿着。",
  cny=1299, a={"material": "goose down", "gender": "women", "style": "long puffer"}, v=["black"], w=1100)
P("app/women/active", "lululemon", key="align",
  en="lululemon Align High-Rise Pant 25\"",
  zh="lululemon Align 女士 高腰瑜伽裤 25英寸",
  den="Buttery-soft Nulu fabric that feels weightless, designed for yoga and all-day wear. High rise with a hidden "
      "waistband pocket.",
  dzh="采用Nulu面料，轻盈裸感，柔软亲肤。高腰设计，腰头内侧隐藏口袋，适合瑜伽及日常穿着。",
  usd=98, cny=750, a={"material": "nylon/lycra", "gender": "women", "style": "yoga",
                      "size": ["XS", "S", "M", "L", "XL"]},
  v=["black", ("Dark Olive", "深橄榄绿", {"color": "green"})], vzh=["black"], w=200)
P("app/shoes/sneakers", "Nike", key="af1",
  en="Nike Air Force 1 '07 Men's Shoes",
  zh="耐克 Nike Air Force 1 '07 男子空军一号运动鞋 板鞋",
  den="The hoops original reimagined for everyday wear: crisp leather upper, stitched overlays and encapsulated Air "
      "cushioning in the sole.",
  dzh="经典篮球鞋款的日常演绎，皮革鞋面搭配缝线覆盖层，鞋底内置Air气垫，轻盈舒适。",
  usd=115, cny=799, a={"material": "leather", "gender": "men", "style": "sneaker", "size": ["8", "9", "10", "11", "12"]},
  v=[("Triple White", "全白", {"color": "white"}), "black"], w=1000,
  de=("Nike Air Force 1 '07 Herrenschuh, Weiß",
      "Der Basketball-Klassiker für jeden Tag: Glattleder-Obermaterial und Air-Dämpfung in der Zwischensohle.",
      119.99))
P("app/shoes/sneakers", "adidas",
  en="adidas Originals Samba OG Shoes",
  zh="阿迪达斯 adidas 三叶草 SAMBA OG 男女同款 经典德训鞋",
  den="Born on the football pitch in the 1950s, the Samba pairs a soft leather upper with suede overlays and a gum "
      "rubber outsole.",
  dzh="诞生于上世纪50年代足球场的经典鞋款，柔软皮革鞋面搭配麂皮拼接，生胶外底复古耐看。",
  usd=100, cny=899, a={"material": "leather", "gender": "unisex", "style": "retro"},
  v=[("Cloud White / Core Black", "白黑", {"color": "white"})], w=850,
  ja=("アディダス オリジナルス サンバ OG スニーカー ホワイト",
      "1950年代にサッカーのトレーニングシューズとして誕生した定番モデル。レザーアッパーとガムソールが特徴です。", 14300))
P("app/shoes/sneakers", "Converse",
  en="Converse Chuck Taylor All Star High Top Sneaker",
  zh="匡威 Converse Chuck Taylor All Star 经典高帮帆布鞋 男女同款",
  den="The canvas high-top that has been around for over a century, with a rubber toe cap and the All Star ankle "
      "patch.",
  dzh="百年经典高帮帆布鞋，橡胶鞋头与脚踝处All Star标志，简约百搭。",
  usd=65, cny=469, a={"material": "canvas", "gender": "unisex", "style": "classic"},
  v=["black", ("Optical White", "白色", {"color": "white"}), "red"], vzh=["black", "white"], w=900)
P("app/shoes/boots", "Dr. Martens",
  en="Dr. Martens 1460 Smooth Leather Lace Up Boots",
  zh="Dr.Martens 马汀博士 1460 经典8孔马丁靴 光面皮",
  den="The original 8-eye boot with signature yellow stitching, a grooved sole edge and the AirWair heel loop. Smooth "
      "leather that breaks in and lasts for years.",
  dzh="经典8孔马丁靴，标志性黄色缝线与AirWair后跟提环，光面皮越穿越有型。",
  usd=170, cny=1599, a={"material": "leather", "gender": "unisex", "style": "combat boot"},
  v=["black"], vzh=["black"], w=1600)
P("app/acc/bags", "Fjällräven",
  en="Fjällräven Kånken Classic Backpack 16L",
  zh="Fjällräven 北极狐 Kånken 经典双肩包 16L",
  den="The Swedish classic since 1978, made from durable, water-resistant Vinylon F with a removable seat pad.",
  dzh="1978年诞生的瑞典经典背包，Vinylon F面料耐磨防泼水，附带可拆卸坐垫。",
  usd=80, cny=650, a={"material": "vinylon", "gender": "unisex", "capacity": "16L"},
  v=["navy"],
  vzh=["navy"], w=300)

# ================================================== Electronics =====================================================
P("ele/phones", "Apple", key="iphone15",
  en="Apple iPhone 15 (128 GB) - {v}",
  zh="Apple/苹果 iPhone 15 (A3092) 128GB {v} 支持移动联通电信5G 双卡双待手机",
  den="Dynamic Island, a 48MP main camera with 2x telephoto and USB-C, in a durable color-infused glass and aluminum "
      "design. A16 Bionic chip with all-day battery life.",
  dzh="灵动岛设计，4800万像素主摄支持2倍光学品质变焦，USB-C接口。A16仿生芯片，续航持久。",
  usd=799, cny=5999, a={"capacity": "128GB"}, v=["black", "pink", "blue"], vzh=["black", "pink"], w=171, wm=12,
  ja=("Apple iPhone 15 (128 GB) - ブラック SIMフリー",
      "ダイナミックアイランドと48MPメインカメラを搭載。USB-C対応で、A16 Bionicチップが一日中使えるバッテリーを実現。", 124800))
P("ele/phones", "Samsung",
  en="Samsung Galaxy S24 Ultra 256GB Unlocked Android Smartphone, {v}",
  zh="三星 Samsung Galaxy S24 Ultra 12GB+256GB {v} AI智能手机 2亿像素 内置S Pen",
  den="Galaxy AI meets a 200MP camera, a titanium frame and the built-in S Pen. The 6.8-inch QHD+ display stays "
      "readable even in bright sunlight.",
  dzh="Galaxy AI加持，2亿像素主摄，钛金属边框，内置S Pen手写笔。6.8英寸QHD+屏幕，强光下依然清晰。",
  usd=1299.99, cny=9699, a={"capacity": "256GB"},
  v=[("Titanium Black", "钛黑", {"color": "black"})], w=232, wm=12)
P("ele/phones", "Google",
  en="Google Pixel 8 - Unlocked Android Smartphone with Advanced Pixel Camera - 128 GB - {v}",
  den="The helpful phone engineered by Google, with an upgraded Pixel camera, Magic Editor and seven years of OS "
      "updates. Powered by Google Tensor G3.",
  usd=699, a={"capacity": "128GB"}, v=[("Obsidian", "", {"color": "black"})],
  w=187, wm=12)
P("ele/phones", "小米",
  zh="小米14 徕卡光学镜头 骁龙8Gen3 12GB+256GB {v} 5G手机",
  dzh="徕卡Summilux光学镜头，第三代骁龙8移动平台，6.36英寸小屏旗舰。4610mAh电池支持90W有线快充与50W无线充电。",
  cny=3999, a={"capacity": "256GB"}, v=["black"], w=193, wm=12)
P("ele/audio/headphones", "Sony", key="xm5",
  en="Sony WH-1000XM5 Wireless Industry Leading Noise Canceling Headphones, {v}",
  zh="索尼（SONY）WH-1000XM5 头戴式无线降噪耳机 {v}",
  den="Two processors control eight microphones for industry-leading noise canceling, with up to 30 hours of battery "
      "life. Lightweight design with soft-fit leather.",
  dzh="双芯驱动8麦克风，带来业界领先的降噪效果，续航长达30小时。轻量化设计，佩戴舒适。",
  usd=399.99, cny=2499, a={"style": "over-ear"}, v=["black", "silver"], w=250, wm=12,
  ja=("ソニー ワイヤレスノイズキャンセリングヘッドホン WH-1000XM5 ブラック",
      "業界最高クラスのノイズキャンセリングと最大30時間のバッテリー。軽量設計で長時間でも快適です。", 59400, "ソニー"),
  de=("Sony WH-1000XM5 kabellose Bluetooth-Kopfhörer mit Noise Cancelling, Schwarz",
      "Branchenführendes Noise Cancelling mit acht Mikrofonen und bis zu 30 Stunden Akkulaufzeit. Leichtes Design für "
      "langen Tragekomfort.", 299.00))
P("ele/audio/headphones", "Apple",
  en="Apple AirPods Pro (2nd Generation) Wireless Earbuds with MagSafe Charging Case (USB-C)",
  zh="Apple/苹果 AirPods Pro (第二代) 配MagSafe充电盒 (USB-C) 主动降噪无线蓝牙耳机",
  den="Up to 2x more Active Noise Cancellation than the previous generation, Adaptive Audio and Personalized Spatial "
      "Audio. The USB-C case adds a speaker for Find My.",
  dzh="主动降噪能力最高可达上一代的2倍，支持自适应音频与个性化空间音频。USB-C充电盒内置扬声器，便于查找。",
  usd=249, cny=1899, a={"color": "white", "style": "in-ear"}, w=61, wm=12)
P("ele/audio/headphones", "华为",
  zh="华为 HUAWEI FreeBuds Pro 3 真无线蓝牙降噪耳机 {v}",
  dzh="星闪连接，智慧动态降噪3.0，高解析音质。单耳续航约6.5小时，配合充电盒约31小时。",
  cny=1499, a={"style": "in-ear"}, v=["white"], w=58, wm=12)
P("ele/audio/speakers", "JBL",
  en="JBL Flip 6 Portable Bluetooth Speaker, IP67 Waterproof, {v}",
  zh="JBL FLIP6 音乐万花筒6 便携蓝牙音箱 IP67防水防尘 {v}",
  den="Bold JBL Pro Sound from a racetrack-shaped woofer and separate tweeter. IP67 waterproof and dustproof with up "
      "to 12 hours of playtime.",
  dzh="跑道式低音单元搭配独立高音单元，声音饱满有力。IP67级防水防尘，续航长达12小时。",
  usd=129.95, cny=899, a={"power": "30W", "style": "portable"}, v=["black"], vzh=["black"],
  w=550, wm=12)
P("ele/computers/laptops", "Apple", key="mba",
  en="Apple 2024 MacBook Air 13-inch Laptop with M3 chip, 8GB Unified Memory, 256GB SSD - {v}",
  zh="Apple/苹果 MacBook Air 13.6英寸 M3芯片 8核CPU 8GB 256GB {v} 笔记本电脑",
  den="Strikingly thin and fast, with the M3 chip, a 13.6-inch Liquid Retina display and up to 18 hours of battery "
      "life. Fanless, so it stays silent.",
  dzh="轻薄机身搭载M3芯片，13.6英寸Liquid视网膜显示屏，续航最长可达18小时。无风扇设计，安静运行。",
  usd=1099, cny=8999, a={"capacity": "256GB"},
  v=[("Midnight", "午夜色", {"color": "midnight"}), ("Starlight", "星光色", {"color": "starlight"}),
     ("Space Gray", "深空灰色", {"color": "gray"})], vzh=[("Midnight", "午夜色", {"color": "midnight"})],
  w=1240, wm=12)
P("ele/computers/laptops", "Lenovo",
  en="Lenovo ThinkPad X1 Carbon Gen 11 14\" Laptop, Intel Core i7-1365U, 16GB RAM, 512GB SSD, Windows 11 Pro",
  zh="联想ThinkPad X1 Carbon 2023款 14英寸 轻薄商务笔记本电脑 i7-1365U 16G 512G",
  den="A carbon-fiber business ultrabook that weighs just 2.48 lb, with a 2.2K IPS display, MIL-STD-810H durability "
      "and the legendary ThinkPad keyboard.",
  dzh="碳纤维机身仅重约1.12kg，2.2K IPS屏幕，通过12项军标测试，经典小红点键盘手感出色。",
  usd=1649, cny=11999, a={"color": "black", "capacity": "512GB"}, w=1120, wm=36)
P("ele/computers/laptops", "华为",
  zh="华为笔记本电脑 MateBook 14 2024款 酷睿Ultra5 16G 1T 2.8K OLED触控屏 {v}",
  dzh="2.8K OLED触控护眼屏，英特尔酷睿Ultra处理器，金属机身轻薄便携。支持华为多屏协同。",
  cny=6499, a={"capacity": "1TB"}, v=[("Space Gray", "深空灰", {"color": "gray"})], w=1310, wm=24)
P("ele/computers/acc", "Logitech",
  en="Logitech MX Master 3S Performance Wireless Mouse, {v}",
  zh="罗技（Logitech）MX Master 3S 无线蓝牙鼠标 静音 8K DPI {v}",
  den="An 8K DPI sensor that tracks on glass, quiet clicks and the MagSpeed electromagnetic scroll wheel. Connects to "
      "up to three devices over Bluetooth or Logi Bolt.",
  dzh="8000DPI传感器可在玻璃表面使用，静音按键，MagSpeed电磁滚轮。支持蓝牙与Bolt接收器，三台设备一键切换。",
  usd=99.99, cny=749, a={"style": "ergonomic"}, v=[("Graphite", "石墨黑", {"color": "black"})], w=141, wm=12)
P("ele/computers/acc", "Keychron",
  en="Keychron K2 Wireless Mechanical Keyboard, 75% Layout, Gateron Brown Switch, RGB Backlight",
  zh="Keychron K2 无线蓝牙机械键盘 75%配列 佳达隆茶轴 RGB背光 Mac/Win双系统",
  den="A compact 84-key layout that connects to three devices over Bluetooth or by USB-C cable. Mac and Windows "
      "keycaps included.",
  dzh="紧凑84键布局，蓝牙可连接三台设备，也可USB-C有线使用。附赠Mac与Windows键帽。",
  usd=89.99, cny=568, a={"color": "gray", "style": "75%"}, w=660, wm=12)
P("ele/power", "Anker",
  en="Anker 737 Power Bank (PowerCore 24K), 24,000mAh 3-Port Portable Charger with 140W Output",
  zh="Anker安克 737 移动电源 24000mAh 140W大功率 笔记本充电宝",
  den="Charge a laptop, phone and earbuds at once with 140W of total output. A smart digital display shows remaining "
      "capacity and wattage.",
  dzh="总输出功率140W，可同时为笔记本、手机和耳机充电。智能数显屏实时显示剩余电量与功率。",
  usd=109.99, cny=699, a={"color": "black", "capacity": "24000mAh", "power": "140W"}, w=630, wm=18)
P("ele/wearables", "Apple",
  en="Apple Watch Series 9 [GPS 45mm] Smartwatch with {v} Aluminum Case and Sport Band",
  zh="Apple/苹果 Watch Series 9 智能手表 GPS款 45毫米 {v}铝金属表壳 运动型表带",
  den="The S9 chip powers a brighter display and the new double-tap gesture. Advanced health features including ECG "
      "and blood oxygen sensing.",
  dzh="S9芯片带来更亮的显示屏和全新的连点两下手势。支持心电图、血氧等健康监测功能。",
  usd=429, cny=3199, a={"size": "45mm"},
  v=[("Midnight", "午夜色", {"color": "midnight"})], w=39, wm=12)
P("ele/wearables", "Garmin",
  en="Garmin Forerunner 265 Running Smartwatch, AMOLED Display, {v}",
  zh="佳明（GARMIN）Forerunner 265 跑步智能手表 AMOLED屏 心率血氧 {v}",
  den="A bright AMOLED running watch with training readiness, HRV status and daily suggested workouts. Up to 13 days "
      "of battery in smartwatch mode.",
  dzh="AMOLED彩屏跑步手表，提供训练准备度、HRV状态与每日训练建议。智能手表模式续航最长13天。",
  usd=449.99, cny=3180, a={"size": "46mm", "style": "sport"}, v=["black"],
  vzh=["black"], w=47, wm=12)
P("ele/wearables", "华为",
  zh="华为 HUAWEI WATCH GT 4 智能手表 46mm {v} 两周续航 运动健康",
  dzh="八角形经典表盘设计，科学运动与健康监测，常规使用续航可达14天。",
  cny=1488, a={"size": "46mm"}, v=["black"], w=48, wm=12)
P("ele/cameras", "Canon",
  en="Canon EOS R50 Mirrorless Camera with RF-S18-45mm Lens Kit, {v}",
  zh="佳能（Canon）EOS R50 微单相机 RF-S18-45 标准变焦套机 Vlog入门 {v}",
  den="A compact 24.2MP APS-C mirrorless camera with subject-detection autofocus and uncropped 4K video. Made for "
      "creators stepping up from a phone.",
  dzh="2420万像素APS-C画幅，智能主体识别对焦，支持无裁切4K视频。适合从手机进阶的内容创作者。",
  usd=799.99, cny=5499, a={"style": "mirrorless"}, v=["black"], vzh=["black"], w=375, wm=12)

# ================================================= Home & Kitchen ===================================================
P("home/coffee", "Nespresso",
  en="Nespresso Vertuo Next Coffee and Espresso Machine by De'Longhi, {v}",
  zh="Nespresso 奈斯派索 Vertuo Next 胶囊咖啡机 家用全自动 {v}",
  den="One-touch brewing reads the barcode on each capsule to make coffee or espresso exactly right. Brews five cup "
      "sizes with a 37 oz removable water tank.",
  dzh="一键萃取，自动识别胶囊条码，精准调节萃取参数。支持五种杯量，1.1L可拆卸水箱。",
  usd=179, cny=1399, a={"capacity": "1.1L", "power": "1500W"}, v=["black"],
  vzh=["black"], w=4000, wm=24,
  de=("Nespresso Vertuo Next ENV120.B Kaffeekapselmaschine von De'Longhi, Schwarz",
      "Per Knopfdruck liest die Maschine den Barcode jeder Kapsel und brüht Kaffee oder Espresso passend. "
      "Abnehmbarer 1,1-Liter-Wassertank.", 99.99))
P("home/coffee", "Breville",
  en="Breville Barista Express Espresso Machine BES870XL, Brushed Stainless Steel",
  zh="铂富（Breville）BES870 半自动意式咖啡机 家用 带磨豆 不锈钢",
  den="Grind, dose and pull cafe-style espresso with a built-in conical burr grinder and precise temperature control. "
      "The steam wand hand-textures microfoam for latte art.",
  dzh="内置锥形磨豆器，从研磨到萃取一机完成，精准控温。蒸汽棒可手动打出细腻奶泡，轻松做拉花。",
  usd=699.95, cny=5499, a={"color": "silver", "material": "stainless steel", "capacity": "2L", "power": "1600W"},
  w=10400, wm=12)
P("home/airfryer", "Ninja", key="ninja_af",
  en="Ninja AF101 Air Fryer that Crisps, Roasts, Reheats, & Dehydrates, 4 Quart, Grey",
  den="Up to 75% less fat than traditional frying, with a 4-quart ceramic-coated nonstick basket. Four functions "
      "including dehydrate.",
  usd=99.99, a={"color": "gray", "capacity": "4 qt", "power": "1550W"}, w=4900, wm=12)
P("home/airfryer", "Philips",
  en="Philips 3000 Series Airfryer L, 4.1L, Rapid Air Technology, HD9252/91",
  zh="飞利浦（PHILIPS）空气炸锅 家用 4.1L 大容量 HD9252",
  den="Rapid Air technology crisps food with up to 90% less fat. The 4.1L basket serves a family of four and is "
      "dishwasher safe.",
  dzh="快速空气循环技术，少油烹饪，最多减少90%油脂。4.1L炸篮满足3-4人家庭，可放入洗碗机清洗。",
  usd=119.99, cny=599, a={"color": "black", "capacity": "4.1L", "power": "1400W"}, w=4300, wm=24)
P("home/airfryer", "美的",
  zh="美的（Midea）空气炸锅 家用 5.5L 大容量 可视窗 免翻面 KZC5502",
  dzh="5.5L大容量，一次可炸整只鸡翅；可视窗口随时观察烹饪状态。上下双热源，免翻面也能均匀上色。",
  cny=299, a={"color": "white", "capacity": "5.5L", "power": "1500W"}, w=5200, wm=12)
P("home/rice", "Zojirushi",
  en="Zojirushi NS-TSC10 Micom Rice Cooker and Warmer, 5.5 Cups, Stainless Brown",
  den="Micro computerized fuzzy logic cooks white, brown, sushi and porridge rice perfectly. Keeps rice warm for hours "
      "without drying it out.",
  usd=199.99, a={"color": "brown", "capacity": "5.5 cups", "power": "610W"}, w=4500, wm=12,
  ja=("象印 マイコン炊飯ジャー 極め炊き 5.5合 NL-DB10-BA ブラック",
      "豪熱沸とうで甘みを引き出すマイコン炊飯器。お手入れ簡単なフラット天面です。", 13800, "象印",
      {"color": "black", "capacity": "5.5合"}))
P("home/rice", "苏泊尔",
  zh="苏泊尔（SUPOR）电饭煲 4L 球釜 IH电磁加热 智能预约 SF40HC",
  dzh="IH电磁立体加热，球形内胆受热均匀，米饭更香甜。24小时智能预约，多种烹饪模式。",
  cny=399, a={"color": "white", "capacity": "4L", "power": "1200W"}, w=4200, wm=12)
P("home/blender", "Vitamix",
  en="Vitamix E310 Explorian Blender, Professional-Grade, 48 oz. Container, {v}",
  zh="维他密斯（Vitamix）E310 料理机 破壁机 进口家用 1.4L",
  den="Ten variable speeds and a pulse feature handle everything from smoothies to hot soup. The 48-ounce container is "
      "ideal for small to medium batches.",
  dzh="10档变速加脉冲功能，从果昔到热汤轻松完成。1.4L容杯，适合2-4人家庭日常使用。",
  usd=349.95, cny=3680, a={"capacity": "48 oz", "power": "2 HP"}, v=["black"], vzh=["black"], w=5000, wm=60)
P("home/blender", "九阳",
  zh="九阳（Joyoung）破壁机 家用 1.75L 加热 豆浆机 料理机 L18-P393",
  dzh="高速破壁，一机多用：豆浆、米糊、果汁、辅食都能做。预约定时，早上起床即可喝到热豆浆。",
  cny=499, a={"color": "white", "capacity": "1.75L", "power": "1000W"}, w=4800, wm=12)
P("home/cookware", "Lodge",
  en="Lodge 12 Inch Cast Iron Skillet, Pre-Seasoned",
  zh="Lodge 洛极 铸铁平底锅 12英寸 预开锅 牛排煎锅",
  den="Pre-seasoned with vegetable oil and ready to use. Unparalleled heat retention for searing, sauteing, baking and "
      "campfire cooking.",
  dzh="出厂已用植物油预开锅，到手即用。铸铁蓄热性出色，煎、炒、烤、露营都适用。",
  usd=34.95, cny=299, a={"color": "black", "material": "cast iron", "size": "12 in"}, w=3500,
  de=("Lodge gusseiserne Pfanne 30 cm, vorgewürzt",
      "Ab Werk mit Pflanzenöl eingebrannt und sofort einsatzbereit. Hervorragende Wärmespeicherung zum Anbraten, "
      "Backen und Grillen.", 44.90))
P("home/cookware", "苏泊尔",
  zh="苏泊尔（SUPOR）炒锅 不粘锅 32cm 少油烟 燃气电磁炉通用",
  dzh="火红点温控不粘涂层，少油烟更健康。复合底设计，燃气灶、电磁炉通用。",
  cny=189, a={"color": "black", "material": "aluminum", "size": "32cm"}, w=2100, wm=12)
P("home/bedding", "Brooklinen",
  en="Brooklinen Luxe Sateen Core Sheet Set, Queen, {v}",
  den="480-thread-count long-staple cotton sateen with a buttery, subtle sheen. Set includes a flat sheet, fitted "
      "sheet and two pillowcases.",
  usd=189, a={"material": "cotton sateen", "size": "Queen"},
  v=["white"], w=2300)
P("home/bedding", "罗莱家纺",
  zh="罗莱家纺 60支长绒棉 纯棉四件套 床单被套 1.8m床 {v}",
  dzh="60支长绒棉贡缎面料，细腻亲肤，柔软透气。含被套、床单、枕套两只，适用1.8m床。",
  cny=899, a={"material": "cotton", "size": "1.8m"}, v=[("Moon White", "月白", {"color": "white"})], w=2600)
P("home/vacuum", "Dyson",
  en="Dyson V15 Detect Cordless Vacuum Cleaner",
  zh="戴森（Dyson）V15 Detect 无绳吸尘器 激光探测微尘 家用手持",
  den="A laser reveals microscopic dust on hard floors while a piezo sensor counts and sizes particles. Up to 60 "
      "minutes of run time.",
  dzh="激光探测揭示地面微尘，声学传感器实时统计颗粒数量和大小。最长续航约60分钟。",
  usd=749.99, cny=5490, a={"color": "yellow", "power": "230AW", "capacity": "0.76L"}, w=3100, wm=24)
P("home/vacuum", "Roborock",
  en="Roborock S8 Pro Ultra Robot Vacuum and Mop, Self-Emptying, Self-Washing, {v}",
  zh="石头（roborock）扫地机器人 S8 Pro Ultra 扫拖一体 自动集尘 自动洗拖布 {v}",
  den="6000Pa suction with dual rubber brushes and sonic mopping that lifts away. The RockDock Ultra empties, washes "
      "and dries itself.",
  dzh="6000Pa大吸力，双胶刷防缠绕，声波震动拖地可自动抬升。基站自动集尘、洗拖布、热风烘干。",
  usd=1599.99, cny=5999, a={"power": "6000Pa"}, v=["white"], vzh=["white"], w=4200, wm=12)
P("home/drinkware", "Stanley", key="stanley",
  en="Stanley Quencher H2.0 FlowState Stainless Steel Vacuum Insulated Tumbler with Lid and Straw, 40 oz, {v}",
  zh="STANLEY 史丹利 Quencher 巨无霸 吸管保温杯 1.18L {v}",
  den="Double-wall vacuum insulation keeps drinks cold for 11 hours and iced for 2 days. The comfort-grip handle and "
      "cupholder-friendly base go everywhere.",
  dzh="双层真空保温，冷饮保冷11小时，加冰可保持2天。人体工学手柄，杯底适配车载杯架。",
  usd=45, cny=369, a={"material": "stainless steel", "capacity": "40 oz"},
  v=[("Rose Quartz", "玫瑰粉", {"color": "pink"}), ("Charcoal", "炭灰色", {"color": "gray"}),
     ("Cream", "奶油白", {"color": "beige"})], vzh=[("Rose Quartz", "玫瑰粉", {"color": "pink"})], w=620)
P("home/drinkware", "膳魔师",
  zh="膳魔师（THERMOS）保温杯 500ml 不锈钢 男女 便携水杯 JNL-502 {v}",
  dzh="高真空不锈钢双层结构，保温保冷效果出色。一键弹盖，单手即可开合，轻量便携。",
  cny=179, a={"material": "stainless steel", "capacity": "500ml"}, v=["navy"], w=210,
  ja=("サーモス 水筒 真空断熱ケータイマグ 500ml JNL-506 ネイビー",
      "高真空ステンレス魔法びん構造で保温・保冷。ワンタッチオープンで片手で飲めます。", 2980, "サーモス"))

# =========================================== Tools & Home Improvement ===============================================
P("tool/drills", "DEWALT",
  en="DEWALT 20V MAX Cordless Drill/Driver Kit, 1/2 Inch, with 2 Batteries (DCD771C2)",
  zh="得伟（DEWALT）20V 锂电充电式电钻 DCD771C2 双电套装 家用手电钻",
  den="A compact, lightweight drill with a high-performance motor delivering 300 unit watts out. Two-speed transmission "
      "and a 1/2-inch ratcheting chuck.",
  dzh="轻巧紧凑，高性能电机输出300UWO。两档变速，13mm棘轮夹头，适合家装与木工。",
  usd=99, cny=1299, a={"color": "yellow", "power": "20V"}, w=1630, wm=36)
P("tool/drills", "Milwaukee",
  en="Milwaukee M18 FUEL 1/2\" Hammer Drill/Driver 2904-20 (Tool Only)",
  den="The most powerful brushless hammer drill in its class, with 1,400 in-lbs of torque. AUTOSTOP control protects "
      "against kickback.",
  usd=199, a={"color": "red", "power": "18V"}, w=1500, wm=60)
P("tool/drills", "Bosch",
  en="Bosch PS31-2A 12V Max 3/8 In. Drill/Driver Kit with 2 Batteries",
  zh="博世（BOSCH）GSR 120-LI 12V 锂电充电式电钻 双电套装 家用手电钻",
  den="Compact and lightweight at 2.1 lb, with 20+1 clutch settings and an integrated LED light. Includes two 2.0Ah "
      "batteries and a charger.",
  dzh="机身小巧，20+1档扭力调节，内置LED照明灯。标配两块2.0Ah电池和充电器。",
  usd=99, cny=599, a={"color": "blue", "power": "12V"}, w=950, wm=12,
  de=("Bosch Professional 12V System Akku-Bohrschrauber GSR 12V-15 (inkl. 2x 2,0 Ah Akku, Ladegerät, L-BOXX)",
      "Kompakter Akku-Bohrschrauber mit 30 Nm Drehmoment und LED-Licht. Ideal für Schraubarbeiten in engen Bereichen.",
      129.99, "Bosch Professional"))
P("tool/saws", "Makita",
  en="Makita XSS02Z 18V LXT Lithium-Ion Cordless 6-1/2\" Circular Saw (Tool Only)",
  zh="牧田（Makita）HS7600 电圆锯 7寸 木工切割锯 1200W",
  den="Powerful 3,700 RPM motor with a 6-1/2 inch blade for fast ripping. Bevel capacity up to 50 degrees with "
      "positive stops at 45 degrees.",
  dzh="1200W大功率电机，185mm锯片，切割效率高。可倾斜0-45度斜切，适合木工装修。",
  usd=129, cny=699, a={"color": "teal", "power": "18V"}, w=3400, wm=36)
P("tool/sets", "CRAFTSMAN",
  en="CRAFTSMAN Mechanics Tool Set, 230-Piece, with 3 Drawer Box (CMMT45305)",
  den="Sockets, ratchets, wrenches and bits in SAE and metric, organized in a 3-drawer case. 72-tooth ratchets with a "
      "5-degree arc swing.",
  usd=149.99, a={"color": "red", "material": "chrome vanadium steel"}, w=11000, wm=0)
P("tool/sets", "得力",
  zh="得力（deli）家用工具箱套装 49件 五金工具 电工维修多功能手动工具组合",
  dzh="锤子、螺丝刀、扳手、钳子、卷尺等常用工具一箱配齐。铬钒钢材质，家庭装修维修必备。",
  cny=129, a={"color": "blue", "material": "chrome vanadium steel"}, w=3800, wm=12)
P("tool/measure", "Stanley",
  en="STANLEY FATMAX Tape Measure, 25-Foot (33-725)",
  zh="史丹利（STANLEY）钢卷尺 5米 加厚耐摔 高精度 FATMAX",
  den="BladeArmor coating on the first 3 inches for durability, with an 11-foot standout. Mylar-coated blade resists "
      "wear.",
  dzh="尺带前端加固防磨损，悬伸长度出色，尺带涂层耐磨耐用。外壳防摔，适合工地使用。",
  usd=24.98, cny=39, a={"color": "yellow", "size": "25 ft"}, w=440)
P("tool/measure", "Bosch",
  en="Bosch GLM 50-27 C Blaze Bluetooth Laser Measure, 165 Ft",
  zh="博世（BOSCH）GLM 50-27 C 激光测距仪 50米 蓝牙 电子尺",
  den="Measures up to 165 feet with ±1/16 inch accuracy and syncs to the MeasureOn app over Bluetooth. Backlit "
      "color display.",
  dzh="测量距离可达50米，精度±1.5mm，支持蓝牙连接手机App同步数据。彩色背光屏幕。",
  usd=129, cny=899, a={"color": "blue"}, w=180, wm=24)
P("tool/bulbs", "Philips",
  en="Philips LED Frosted A19 Light Bulb, 60W Equivalent, 800 Lumens, Soft White 2700K, 8-Pack",
  zh="飞利浦（PHILIPS）LED灯泡 E27螺口 8W 暖白光 节能球泡灯 8只装",
  den="Warm soft white light that uses 85% less energy than incandescent bulbs. Rated for up to 10 years of use.",
  dzh="暖白光柔和不刺眼，比传统白炽灯节能约85%。使用寿命长达10年。",
  usd=19.97, cny=59, a={"color": "white", "power": "8W"}, w=480)
P("tool/bulbs", "Philips Hue",
  en="Philips Hue White and Color Ambiance A19 LED Smart Bulb Starter Kit, 3 Bulbs + Bridge",
  zh="飞利浦Hue 智能彩光灯泡 E27 套装 支持Apple HomeKit 米家",
  den="16 million colors and shades of white, controlled by app, voice or schedule. The Hue Bridge unlocks automations "
      "for up to 50 lights.",
  dzh="1600万种色彩与冷暖白光，可通过App、语音或定时控制。配合Hue桥接器可联动多达50盏灯。",
  usd=199.99, cny=899, a={"color": "multicolor", "power": "9W", "style": "smart"}, w=900, wm=24)
P("tool/security", "Ring",
  en="Ring Battery Doorbell Plus, Head-to-Toe HD+ Video, Motion Detection, DIY Installation",
  den="1536p head-to-toe video shows visitors and packages on the ground. Quick-release battery pack, wire-free setup "
      "in minutes.",
  usd=149.99, a={"color": "black", "style": "smart"}, w=300, wm=12)
P("tool/security", "小米",
  zh="小米智能门锁 M20 Pro 全自动指纹锁 C级锁芯 家用防盗门电子锁",
  dzh="3D结构光人脸识别与半导体指纹双重解锁，C级锁芯更安全。米家App远程查看开门记录。",
  cny=1599, a={"color": "black", "style": "smart"}, w=4500, wm=24)
P("tool/hardware", "WD-40",
  en="WD-40 Multi-Use Product with Smart Straw Sprays 2 Ways, 11 oz",
  zh="WD-40 除锈润滑剂 防锈油 螺丝松动剂 350ml",
  den="Stops squeaks, drives out moisture and loosens rust-to-metal bonds. The Smart Straw sprays a wide mist or a "
      "precise stream.",
  dzh="消除异响、驱除湿气、松动锈蚀螺丝。喷嘴可宽幅喷雾也可精准喷射。",
  usd=8.98, cny=35, a={"capacity": "11 oz"}, w=400)

# =============================================== Sports & Outdoors ==================================================
P("sport/tents", "Coleman",
  en="Coleman Sundome 4-Person Camping Tent with Rainfly, {v}",
  den="Sets up in about 10 minutes with snag-free continuous pole sleeves. WeatherTec system with welded floors keeps "
      "you dry.",
  usd=89.99, a={"capacity": "4 person", "material": "polyester"}, v=["green"], w=4500, wm=12)
P("sport/tents", "Naturehike",
  en="Naturehike Cloud-Up 2 Person Ultralight Backpacking Tent, 20D Silicone",
  zh="挪客（Naturehike）云尚2 超轻双人帐篷 户外徒步露营 防雨 20D硅胶",
  den="A freestanding two-person tent that packs down to 1.7 kg. Silicone-coated 20D nylon fly with a 4000mm "
      "waterproof rating.",
  dzh="自立式双人帐篷，整体重量约1.7kg。20D硅胶涂层外帐，防水指数4000mm，适合徒步露营。",
  usd=139.99, cny=599, a={"capacity": "2 person", "material": "nylon", "color": "gray"}, w=1700, wm=12)
P("sport/tents", "牧高笛",
  zh="牧高笛（MOBIGARDEN）冷山2 户外双人帐篷 铝杆 防暴雨 {v}",
  dzh="双层结构，铝合金帐杆，抗风防暴雨。前后双门设计，通风良好，适合两人露营。",
  cny=899, a={"capacity": "2 person", "material": "polyester"}, v=["green"], w=2600, wm=12)
P("sport/sleeping", "Kelty",
  en="Kelty Cosmic 20 Degree Down Sleeping Bag, 550 Fill Power, Regular",
  den="A trail-ready down bag rated to 20F with a natural-fit footbox. Packs small in the included stuff sack.",
  usd=189.95, a={"material": "duck down", "color": "blue", "size": "regular"}, w=1200)
P("sport/sleeping", "黑冰",
  zh="黑冰（BLACKICE）G1000 鹅绒睡袋 户外露营 木乃伊式 舒适温度-10℃",
  dzh="95%白鹅绒填充，木乃伊式剪裁减少热量流失。舒适温度约-10℃，适合冬季高海拔露营。",
  cny=1280, a={"material": "goose down", "color": "red"}, w=1500)
P("sport/coolers", "YETI",
  en="YETI Tundra 45 Cooler, {v}",
  den="Rotomolded construction and up to 3 inches of PermaFrost insulation keep ice for days. Bear-resistant and "
      "built for the backcountry.",
  usd=325, a={"capacity": "37.6 qt", "material": "polyethylene"},
  v=["white"], w=10400, wm=60)
P("sport/yoga", "Manduka",
  en="Manduka PRO Yoga Mat 6mm, {v}",
  den="Ultra-dense 6mm cushioning with a closed-cell surface that keeps sweat out. Lifetime guarantee.",
  usd=129, a={"material": "PVC", "size": "71 in"}, v=["black"], w=3400)
P("sport/yoga", "lululemon",
  en="lululemon The Mat 5mm Made With FSC-Certified Rubber",
  zh="lululemon The Mat 5mm 双面瑜伽垫 天然橡胶 防滑",
  den="Grippy polyurethane top layer over natural rubber for cushioning and support. Antimicrobial additive helps keep "
      "the mat clean.",
  dzh="聚氨酯表层防滑抓地，天然橡胶底层缓冲支撑。添加抗菌成分，保持垫面清洁。",
  usd=108, cny=788, a={"material": "natural rubber", "color": "black"}, w=2400)
P("sport/yoga", "Keep",
  zh="Keep 瑜伽垫 TPE 双面防滑 6mm 加厚 健身垫 {v}",
  dzh="TPE环保材质，双面纹理防滑，6mm厚度缓冲膝盖。附送绑带，方便收纳携带。",
  cny=99, a={"material": "TPE"}, v=[("Haze Blue", "雾霾蓝", {"color": "blue"})], w=900)
P("sport/weights", "Bowflex",
  en="Bowflex SelectTech 552 Adjustable Dumbbells (Pair)",
  den="Each dumbbell adjusts from 5 to 52.5 lb with the turn of a dial, replacing 15 sets of weights. Compact enough "
      "for any home gym.",
  usd=429, a={"color": "black", "capacity": "52.5 lb"}, w=48000, wm=24)
P("sport/weights", "迪卡侬",
  zh="迪卡侬（DECATHLON）哑铃 可调节 家用健身 20kg套装 DOMYOS",
  dzh="可自由组合重量的哑铃套装，配杠铃连接杆可变身杠铃。防滑手柄，适合家庭力量训练。",
  cny=399, a={"color": "black", "capacity": "20kg"}, w=20500)
P("sport/helmets", "Giro",
  en="Giro Register MIPS Adult Recreational Cycling Helmet, {v}",
  den="MIPS brain protection in a lightweight, well-ventilated helmet. The Roc Loc Sport fit system dials in the fit.",
  usd=69.95, a={"size": "universal adult"}, v=[("Matte Black", "", {"color": "black"})], w=300)
P("sport/helmets", "捷安特",
  zh="捷安特（GIANT）骑行头盔 一体成型 公路车山地自行车安全帽 {v}",
  dzh="一体成型工艺，多通风孔设计透气散热。头围可调节，适合公路车和山地车骑行。",
  cny=199, a={"size": "M/L"}, v=["black"], w=270)
P("sport/jackets", "Arc'teryx",
  en="Arc'teryx Beta Jacket Men's, GORE-TEX Waterproof Shell, {v}",
  zh="始祖鸟（ARC'TERYX）BETA JACKET 男款 GORE-TEX 防水 硬壳冲锋衣 {v}",
  den="A versatile GORE-TEX ePE shell that is waterproof, windproof and breathable. The StormHood fits over a helmet.",
  dzh="GORE-TEX ePE面料，防水防风且透气。StormHood风帽可兼容头盔，适合徒步登山多种场景。",
  usd=450, cny=4200, a={"material": "GORE-TEX", "gender": "men", "style": "hardshell"},
  v=["black"], vzh=["black"], w=395)
P("sport/jackets", "Patagonia",
  en="Patagonia Men's Torrentshell 3L Rain Jacket, {v}",
  den="A 3-layer H2No waterproof shell made with recycled nylon. Pit zips vent heat on steep climbs.",
  usd=179, a={"material": "recycled nylon", "gender": "men", "style": "rain jacket"}, v=["black"], w=394)
P("sport/jackets", "凯乐石",
  zh="凯乐石（KAILAS）冲锋衣 男 GTX 防水透气 户外登山 硬壳外套 {v}",
  dzh="GORE-TEX面料防水透气，立体剪裁活动自如。腋下拉链快速排热，适合高海拔登山徒步。",
  cny=1799, a={"material": "GORE-TEX", "gender": "men", "style": "hardshell"}, v=["black"], w=450)
P("sport/running", "HOKA",
  en="HOKA Clifton 9 Men's Running Shoes, {v}",
  zh="HOKA ONE ONE 男款 Clifton 9 克利夫顿9 缓震公路跑鞋 {v}",
  den="Lighter and more cushioned than ever, with a responsive foam and an early-stage Meta-Rocker for smooth "
      "transitions.",
  dzh="更轻、更软弹，响应式中底泡棉搭配早期摇摆设计，过渡顺畅，适合日常训练。",
  usd=145, cny=1199, a={"gender": "men", "style": "road running", "material": "mesh"},
  v=["black"], vzh=["black"], w=560)
P("sport/running", "李宁",
  zh="李宁 赤兔6 PRO 男子 跑步鞋 轻量竞速训练鞋 {v}",
  dzh="䨻丝科技中底轻弹回弹，碳板加持推进有力。鞋面透气，适合速度训练与比赛。",
  cny=499, a={"gender": "men", "style": "racing", "material": "mesh"}, v=["white"], w=460)
P("sport/balls", "Wilson",
  en="Wilson Evolution Indoor Game Basketball, Official Size 7 (29.5\")",
  zh="威尔胜（Wilson）Evolution 7号篮球 室内比赛用球 超纤皮",
  den="The number one indoor basketball in America, with a microfiber composite cover for superior grip. Cushion Core "
      "technology for soft feel.",
  dzh="美国高中联赛热门室内比赛用球，超纤复合皮手感细腻，抓握稳定。",
  usd=79.95, cny=599, a={"color": "brown", "size": "7", "material": "microfiber composite"}, w=600)
P("sport/balls", "Molten",
  a={"color": "orange", "size": "7", "material": "composite leather"}, w=620,
  ja=("モルテン バスケットボール 7号球 BG4500 国際公認球", "FIBA公認の試合球。人工皮革の12枚パネル設計で手になじみます。", 9900,
      "モルテン"))

# ==================================================== Beauty ========================================================
P("beauty/moist", "CeraVe",
  en="CeraVe Moisturizing Cream, Body and Face Moisturizer for Dry Skin, 16 oz",
  zh="适乐肤（CeraVe）修护保湿润肤霜 C霜 454g 敏感肌干皮 身体乳面霜",
  den="Developed with dermatologists, with three essential ceramides and hyaluronic acid. Fragrance-free and "
      "non-comedogenic.",
  dzh="与皮肤科医生共同研发，含3种必需神经酰胺与透明质酸，修护屏障长效保湿。无香精，不致痘。",
  usd=18.99, cny=168, a={"capacity": "16 oz"}, w=520)
P("beauty/serum", "Estée Lauder", key="anr",
  en="Estée Lauder Advanced Night Repair Synchronized Multi-Recovery Complex Serum, 1.7 oz",
  zh="雅诗兰黛（Estée Lauder）特润修护肌活精华露 小棕瓶 50ml",
  den="The iconic night serum that helps reduce the look of multiple signs of aging. Lightweight and fast-absorbing.",
  dzh="经典小棕瓶，夜间修护，改善细纹、暗沉等多重肌肤问题。质地轻盈，快速吸收。",
  usd=115, cny=1010, a={"capacity": "50ml"}, w=180,
  ja=("エスティ ローダー アドバンス ナイト リペア SMR コンプレックス 50mL",
      "夜の肌に働きかけるロングセラー美容液。軽いテクスチャーで素早くなじみます。", 18700, "エスティ ローダー"))
P("beauty/serum", "The Ordinary",
  en="The Ordinary Niacinamide 10% + Zinc 1% Serum, 30ml",
  den="A high-strength vitamin and mineral formula that targets blemishes and visible pores. Water-based and "
      "lightweight.",
  usd=6.00, a={"capacity": "30ml"}, w=60)
P("beauty/serum", "珀莱雅",
  zh="珀莱雅（PROYA）红宝石精华 3.0 30ml 六胜肽 抗皱紧致",
  dzh="添加六胜肽与A醇，淡化细纹，紧致肌肤。油敏肌适用，温和不刺激。",
  cny=329, a={"capacity": "30ml"}, w=110)
P("beauty/sun", "La Roche-Posay",
  en="La Roche-Posay Anthelios Melt-in Milk Sunscreen SPF 100, 5 fl oz",
  zh="理肤泉 大哥大特护清盈防晒乳 SPF50+ 50ml",
  den="Broad-spectrum UVA/UVB protection in a fast-absorbing, water-resistant formula. Suitable for sensitive skin.",
  dzh="高倍广谱防晒，质地清爽易推开，防水防汗。敏感肌可用。",
  usd=37.99, cny=235, a={"capacity": "150ml"}, w=180)
P("beauty/sun", "Anessa",
  zh="安热沙（ANESSA）小金瓶 防晒霜 SPF50+ PA++++ 60ml",
  dzh="遇水遇汗防护更强，户外运动适用。清爽不黏腻，可用于面部和身体。",
  cny=248, a={"capacity": "60ml"}, w=90,
  ja=("アネッサ パーフェクトUV スキンケアミルク N SPF50+ PA++++ 60mL",
      "汗や水に触れるとUVブロック膜が強くなる日焼け止め。顔・からだ用。", 3278, "アネッサ"))
P("beauty/lips", "MAC",
  en="MAC Matte Lipstick, {v}",
  zh="魅可（MAC）子弹头口红 哑光 {v}",
  den="A creamy, rich formula with high color payoff and a no-shine matte finish. The bullet that started it all.",
  dzh="经典子弹头，显色饱满，哑光质地不反光，持久服帖。",
  usd=23, cny=230, a={"style": "matte"},
  v=[("Ruby Woo", "Ruby Woo 复古正红", {"color": "red"}), ("Velvet Teddy", "Velvet Teddy 奶茶色", {"color": "nude"}),
     ("Chili", "Chili 小辣椒", {"color": "brown"})], vzh=[("Chili", "Chili 小辣椒", {"color": "brown"})], w=30)
P("beauty/lips", "花西子",
  zh="花西子 同心锁口红 雕花唇膏 {v}",
  dzh="东方雕花工艺，膏体丝滑易推开。色泽饱满，妆效持久。",
  cny=219, a={"style": "satin"}, v=[("M112 Cinnabar", "M112 朱砂", {"color": "red"})], w=45)
P("beauty/foundation", "Estée Lauder",
  en="Estée Lauder Double Wear Stay-in-Place Foundation SPF 10, 1 oz, {v}",
  zh="雅诗兰黛（Estée Lauder）DW持妆粉底液 30ml {v}",
  den="24-hour wear that is flawless, natural and matte, and stays put through heat and humidity. Oil-free.",
  dzh="24小时持妆，自然哑光妆效，高温潮湿也不易脱妆。无油配方。",
  usd=52, cny=460, a={"capacity": "30ml", "style": "matte"},
  v=[("1W2 Sand", "1W2 象牙白", {"color": "beige"})],
  vzh=[("1W2 Sand", "1W2 象牙白", {"color": "beige"})], w=120)
P("beauty/hair", "OLAPLEX",
  en="OLAPLEX No.4 Bond Maintenance Shampoo, 8.5 fl oz",
  zh="OLAPLEX 4号 结构还原洗发水 250ml 修护受损发质",
  den="A highly moisturizing, reparative shampoo that leaves hair easy to manage, shiny and healthy. Safe for "
      "color-treated hair.",
  dzh="修护受损发质，洗后顺滑有光泽。温和配方，染烫发适用。",
  usd=30, cny=268, a={"capacity": "250ml"}, w=300)
P("beauty/brush", "Philips Sonicare",
  en="Philips Sonicare ProtectiveClean 4100 Rechargeable Electric Toothbrush, {v}",
  zh="飞利浦（PHILIPS）Sonicare 声波电动牙刷 HX6800 成人 压力感应 {v}",
  den="Removes up to 7x more plaque than a manual toothbrush, with a pressure sensor that protects gums. Two-week "
      "battery life.",
  dzh="清除牙菌斑效果是手动牙刷的7倍，压力感应保护牙龈。一次充电可用两周。",
  usd=49.96, cny=299, a={"power": "rechargeable"}, v=["white"], vzh=["white"], w=150, wm=24)
P("beauty/brush", "米家",
  zh="米家 声波电动牙刷 T500 小米 智能APP 三档模式 {v}",
  dzh="磁悬浮声波马达，三种刷牙模式，可连接米家App记录刷牙数据。续航约25天。",
  cny=169, a={"power": "rechargeable"}, v=["white"], w=120, wm=12)
P("beauty/dryer", "Dyson",
  en="Dyson Supersonic Hair Dryer, {v}",
  zh="戴森（Dyson）Supersonic 吹风机 HD08 负离子 智能温控 {v}",
  den="Fast drying with intelligent heat control that measures air temperature 40 times a second. Magnetic styling "
      "attachments included.",
  dzh="快速干发，智能温控每秒测温40次，防止过热损伤秀发。配备磁吸风嘴。",
  usd=429.99, cny=2999, a={"power": "1600W"},
  v=[("Fuchsia/Nickel", "紫红镍色", {"color": "pink"})],
  vzh=[("Fuchsia/Nickel", "紫红镍色", {"color": "pink"})], w=1800, wm=24)
P("beauty/dryer", "徕芬",
  zh="徕芬（LAIFEN）高速吹风机 SE 负离子护发 11万转 {v}",
  dzh="11万转高速电机，大风量快速吹干。负离子护发，恒温不伤发，轻巧便携。",
  cny=399, a={"power": "1400W"}, v=["white"], w=400, wm=24)
P("beauty/fragrance", "Chanel",
  en="CHANEL Coco Mademoiselle Eau de Parfum Spray, 1.7 oz",
  zh="香奈儿（Chanel）可可小姐 浓香水 EDP 50ml 女士香水",
  den="A fresh oriental fragrance with a bright orange opening, a clear floral heart and sensual patchouli. A "
      "modern classic.",
  dzh="清新东方香调，柑橘前调明亮，花香中调清透，广藿香后调性感迷人。",
  usd=150, cny=1150, a={"capacity": "50ml", "gender": "women"}, w=300)
P("beauty/fragrance", "Dior",
  en="Dior Sauvage Eau de Toilette Spray for Men, 3.4 oz",
  zh="迪奥（Dior）旷野男士淡香水 EDT 100ml",
  den="Radically fresh with Calabrian bergamot and ambroxan. Raw, noble and instantly recognizable.",
  dzh="卡拉布里亚佛手柑搭配龙涎香醚，清新浓烈，辨识度极高。",
  usd=128, cny=1050, a={"capacity": "100ml", "gender": "men"}, w=400,
  de=("Dior Sauvage Eau de Toilette für Herren, 100 ml",
      "Frisch und markant: kalabrische Bergamotte trifft auf Ambroxan.", 119.00))

# ===================================================== Toys =========================================================
P("toy/building", "LEGO", key="lego_orchid",
  en="LEGO Icons Orchid 10311 Artificial Plant Building Set for Adults",
  zh="乐高（LEGO）积木 Icons系列 10311 兰花 成人拼搭玩具 花卉",
  den="Build a beautiful orchid display with 608 pieces, including adjustable stems and a blue vase. Makes a lovely "
      "home decor piece.",
  dzh="608块颗粒，拼搭一盆精致兰花，花茎可调节，搭配蓝色花盆。拼好后是漂亮的家居摆件。",
  usd=49.99, cny=399, a={"style": "botanical"}, w=1200)
P("toy/building", "LEGO",
  en="LEGO Star Wars Millennium Falcon 75257 Building Kit",
  zh="乐高（LEGO）积木 星球大战 75257 千年隼 拼装玩具 9岁+",
  den="A 1,351-piece Millennium Falcon with a rotating top gun turret, lowering boarding ramp and seven minifigures.",
  dzh="1351块颗粒，可旋转炮塔、可放下的登船坡道，附7个人仔。",
  usd=169.99, cny=1199, a={"style": "star wars"}, w=2600)
P("toy/building", "布鲁可",
  zh="布鲁可 大颗粒积木 奥特曼 英雄积木人 拼装玩具 3岁+",
  dzh="大颗粒积木设计，小手也能轻松拼搭。关节可活动，奥特曼造型还原度高。",
  cny=69, a={"style": "figure", "color": "red"}, w=200)
P("toy/plush", "Jellycat",
  en="Jellycat Bashful Bunny, Medium 12\", {v}",
  zh="Jellycat 害羞邦尼兔 中号 31cm 安抚毛绒玩偶 {v}",
  den="A super-soft bunny with long floppy ears and a sweet shy face. Suitable from birth.",
  dzh="超柔软绒毛，长长的垂耳，害羞的表情萌翻。0岁以上宝宝适用。",
  usd=25, cny=279, a={"material": "polyester plush", "size": "31cm"},
  v=["beige"], w=180)
P("toy/plush", "Barbie",
  en="Barbie Dreamhouse Dollhouse with Pool, Slide, Elevator and 75+ Pieces",
  zh="芭比（Barbie）梦想豪宅 三层别墅 带泳池滑梯电梯 女孩过家家玩具",
  den="A three-story dollhouse with 10 indoor and outdoor play areas, a working elevator and a pool slide. Lights and "
      "sounds included.",
  dzh="三层豪华别墅，10个室内外游戏区，电梯可升降，泳池滑梯。带声光效果。",
  usd=179.99, cny=1499, a={"color": "pink", "style": "dollhouse"}, w=6800)
P("toy/rc", "Traxxas",
  en="Traxxas Slash 2WD 1/10 Scale Short Course RC Truck, Ready-to-Race",
  den="A rugged short-course truck that hits 30+ mph out of the box, with a waterproof XL-5 ESC. Batteries and "
      "charger included.",
  usd=299.99, a={"color": "blue", "power": "brushed"}, w=2700, wm=3)
P("toy/rc", "美致",
  zh="美致 遥控越野车 1:14 四驱攀爬车 高速漂移 儿童玩具男孩",
  dzh="四轮驱动，独立悬挂，越野爬坡能力强。2.4G遥控抗干扰，多车同玩互不影响。",
  cny=169, a={"color": "red"}, w=1100, wm=3)
P("toy/diecast", "Hot Wheels",
  en="Hot Wheels Set of 20 Toy Cars, 1:64 Scale Die-Cast Vehicles",
  zh="风火轮（Hot Wheels）合金小车 20辆装 1:64 儿童玩具车",
  den="Twenty 1:64 scale die-cast cars in a mix of styles. Assortment may vary.",
  dzh="20辆1:64合金车模，款式随机组合，收藏玩耍两相宜。",
  usd=21.99, cny=149, a={"material": "die-cast metal", "color": "multicolor"}, w=900)
P("toy/games", "CATAN",
  en="CATAN Board Game (Base Game), Family Board Game for Adults and Kids",
  zh="卡坦岛 CATAN 桌游 中文基础版 家庭聚会策略游戏",
  den="Trade, build and settle the island of Catan. For 3-4 players ages 10 and up; about 60 minutes per game.",
  dzh="交易资源、修路建城，争夺卡坦岛。适合3-4人，10岁以上，每局约60分钟。",
  usd=55, cny=198, a={"style": "strategy"}, w=1200)
P("toy/games", "Hasbro",
  en="Monopoly Classic Board Game for Families and Kids, Ages 8+",
  zh="孩之宝（Hasbro）地产大亨 大富翁 经典版 桌游 中文版",
  den="Buy, sell and scheme your way to riches in the classic fast-dealing property trading game. 2-6 players.",
  dzh="经典地产交易游戏，买地、盖房、收租，成为最后的大富翁。适合2-6人。",
  usd=19.99, cny=129, a={"style": "family"}, w=1100)
P("toy/puzzles", "Ravensburger",
  en="Ravensburger The Starry Night 1000 Piece Jigsaw Puzzle for Adults",
  zh="睿思（Ravensburger）成人拼图 1000片 梵高 星月夜",
  den="Softclick technology gives a perfect fit, and the linen-structured paper reduces glare. Finished size 27 x 20 "
      "inches.",
  dzh="德国原装进口，拼合紧密不松散，亚麻纹理印刷不反光。成品尺寸70x50cm。",
  usd=22.99, cny=159, a={"size": "1000 pieces"}, w=750)
P("toy/stem", "Snap Circuits",
  en="Snap Circuits Classic SC-300 Electronics Exploration Kit, 300+ Projects",
  den="Build working circuits with snap-together parts, no soldering required. Over 300 projects for ages 8 and up.",
  usd=69.99, a={"style": "stem"}, w=1800)
P("toy/stem", "科学罐头",
  zh="科学罐头 儿童科学实验套装 STEM玩具 小学生手工DIY 物理实验",
  dzh="20个趣味实验，配套视频课程讲解原理。材料安全，适合6岁以上小朋友动手探索。",
  cny=99, a={"style": "stem"}, w=800)

# ==================================================== Grocery =======================================================
P("groc/coffee", "Starbucks",
  en="Starbucks Whole Bean Coffee, Medium Roast, Pike Place Roast, 28 oz",
  zh="星巴克（Starbucks）咖啡豆 派克市场 中度烘焙 250g",
  den="A smooth, well-rounded blend with subtle notes of cocoa and toasted nuts. Roasted for everyday drinking.",
  dzh="口感顺滑均衡，带有可可与烘烤坚果风味。中度烘焙，适合日常饮用。",
  usd=19.98, cny=88, a={"style": "medium roast"}, w=800)
P("groc/coffee", "Lavazza",
  en="Lavazza Super Crema Whole Bean Coffee Blend, Medium Espresso Roast, 2.2 lb",
  den="A mild and creamy espresso blend of Arabica and Robusta with notes of hazelnut and brown sugar.",
  usd=22.99, a={"style": "espresso roast"}, w=1000,
  de=("Lavazza Kaffeebohnen Super Crema, 1 kg",
      "Mild-cremige Espressomischung aus Arabica und Robusta mit Noten von Haselnuss und braunem Zucker.", 17.99))
P("groc/coffee", "雀巢",
  zh="雀巢（Nestlé）咖啡 1+2 原味 速溶咖啡 15g*100条 盒装",
  dzh="经典1+2原味，咖啡、奶精、糖黄金比例，香浓顺滑。独立条装，随时冲泡。",
  cny=119, a={"capacity": "100 sticks"}, w=1600)
P("groc/coffee", "三顿半",
  zh="三顿半 超即溶精品咖啡 数字星球系列 黑咖啡 24颗",
  dzh="冷萃冻干工艺，3秒即溶于冷水、热水或牛奶。多种烘焙度组合，一次尝鲜多种风味。",
  cny=189, a={"style": "freeze-dried"}, w=300)
P("groc/tea", "Twinings",
  en="Twinings English Breakfast Black Tea, 100 Tea Bags",
  den="A full-bodied, robust blend of black teas, perfect with milk. Individually wrapped bags.",
  usd=9.49, a={"style": "black tea"}, w=250)
P("groc/tea", "狮峰",
  zh="狮峰牌 西湖龙井 2024新茶 明前特级 绿茶 250g 礼盒装",
  dzh="杭州西湖产区明前采摘，扁平挺直，香气清高持久。精美礼盒，送礼自饮皆宜。",
  cny=368, a={"style": "green tea"}, w=450)
P("groc/tea", "ITO EN",
  en="ITO EN Oi Ocha Unsweetened Green Tea, 16.9 fl oz, 12-Pack",
  den="Japan's number one green tea, brewed from 100% Japanese tea leaves. Zero calories, no sugar.",
  usd=27.99, a={"capacity": "16.9 fl oz x 12"}, w=6600,
  ja=("伊藤園 お～いお茶 緑茶 525ml×24本", "国産茶葉100%使用の緑茶。すっきりとした味わいで毎日の水分補給に。", 2980, "伊藤園",
      {"capacity": "525ml x 24", "weight_g": 13200}))
P("groc/drinks", "Coca-Cola",
  en="Coca-Cola Classic Soda, 12 fl oz Cans, 12 Pack",
  zh="可口可乐 Coca-Cola 汽水 碳酸饮料 330ml*24罐 整箱",
  den="The original, refreshing taste of Coca-Cola in convenient 12-ounce cans. Best served ice-cold.",
  dzh="经典可口可乐原味，畅爽气泡，冰镇更好喝。整箱装，聚会囤货必备。",
  usd=7.49, cny=56, a={"capacity": "12 fl oz x 12"}, w=4500)
P("groc/drinks", "农夫山泉",
  zh="农夫山泉 饮用天然水 550ml*24瓶 整箱",
  dzh="优质水源地天然水，含天然矿物元素。整箱装，家庭办公常备。",
  cny=39.9, a={"capacity": "550ml x 24"}, w=13500)
P("groc/drinks", "元气森林",
  zh="元气森林 苏打气泡水 白桃味 480ml*15瓶 0糖0脂0卡",
  dzh="0糖0脂0卡，白桃风味清甜，气泡充足口感清爽。",
  cny=69, a={"capacity": "480ml x 15"}, w=7600)
P("groc/chips", "Lay's",
  en="Lay's Classic Potato Chips, Party Size, 13 oz",
  zh="乐事（Lay's）薯片 美国经典原味 135g 休闲零食",
  den="Made from farm-grown potatoes, cooked and seasoned to perfection with just a touch of salt.",
  dzh="精选马铃薯切片，经典原味，薄脆可口，追剧聚会好搭档。",
  usd=6.29, cny=9.9, a={"capacity": "13 oz"}, w=370)
P("groc/nuts", "Kirkland Signature",
  en="Kirkland Signature Extra Fancy Mixed Nuts, Salted, 2.5 lb",
  den="A premium mix of cashews, almonds, macadamias, pecans and Brazil nuts, lightly salted.",
  usd=17.99, a={"capacity": "2.5 lb"}, w=1134)
P("groc/nuts", "三只松鼠",
  zh="三只松鼠 每日坚果 750g/30袋 混合坚果果干 孕妇零食",
  dzh="每日一袋，7种坚果果干科学配比。独立小包装，锁住新鲜。",
  cny=89, a={"capacity": "30 bags"}, w=800)
P("groc/rice", "Nishiki",
  en="Nishiki Premium Grade Medium Grain Rice, 15 lb",
  den="California-grown medium grain rice with a slightly sticky texture, ideal for sushi and everyday meals.",
  usd=21.99, a={"capacity": "15 lb"}, w=6800)
P("groc/rice", "柴火大院",
  zh="柴火大院 五常大米 稻花香2号 5kg 东北大米",
  dzh="黑龙江五常产区稻花香2号，米粒饱满，蒸煮后香气浓郁，软糯回甘。",
  cny=79.9, a={"capacity": "5kg"}, w=5000)
P("groc/oil", "金龙鱼",
  zh="金龙鱼 食用油 黄金比例 1:1:1 调和油 5L",
  dzh="三种脂肪酸1:1:1均衡配比，适合日常炒菜烹饪。",
  cny=79.9, a={"capacity": "5L"}, w=4600)
P("groc/oil", "鲁花",
  zh="鲁花 5S压榨一级 花生油 5L 食用油",
  dzh="5S物理压榨工艺，保留花生浓郁香味。一级品质，炒菜更香。",
  cny=169.9, a={"capacity": "5L"}, w=4600)
P("groc/oil", "Pompeian",
  en="Pompeian Robust Extra Virgin Olive Oil, First Cold Pressed, 68 fl oz",
  den="A full-bodied extra virgin olive oil ideal for sauteing, roasting and marinades. Non-GMO.",
  usd=24.99, a={"capacity": "68 fl oz"}, w=2000)
P("groc/sauce", "Lee Kum Kee",
  en="Lee Kum Kee Premium Oyster Sauce, 18 oz",
  zh="李锦记 旧庄特级蚝油 510g 蚝油调味",
  den="Made from oyster extracts for rich, savory flavor in stir-fries, marinades and dipping sauces.",
  dzh="精选蚝汁熬制，鲜味浓郁，炒菜、腌制、蘸料都适用。",
  usd=6.99, cny=22.9, a={"capacity": "510g"}, w=700, bzh="李锦记")
P("groc/sauce", "海天",
  zh="海天 金标生抽 1.28L 酿造酱油",
  dzh="传统工艺晒足180天，酱香浓郁，鲜味十足，炒菜凉拌皆宜。",
  cny=16.9, a={"capacity": "1.28L"}, w=1450)
P("groc/sauce", "Kikkoman",
  en="Kikkoman Traditionally Brewed Soy Sauce, 15 oz",
  den="Naturally brewed from soybeans, wheat, water and salt for a rich, well-balanced flavor.",
  usd=3.99, a={"capacity": "15 oz"}, w=600,
  ja=("キッコーマン 特選 丸大豆しょうゆ 1L", "丸大豆を使用した、まろやかでうまみの豊かなしょうゆです。", 498, "キッコーマン",
      {"capacity": "1L", "weight_g": 1150}))
P("groc/milk", "伊利",
  zh="伊利 金典 纯牛奶 250ml*12盒 礼盒装",
  dzh="3.6g乳蛋白，源自优质奶源。原生高钙，营养丰富。",
  cny=59.9, a={"capacity": "250ml x 12"}, w=3200)
P("groc/milk", "蒙牛",
  zh="蒙牛 特仑苏 纯牛奶 250ml*16盒 整箱",
  dzh="专属牧场奶源，3.6g优质乳蛋白，口感醇厚。",
  cny=69.9, a={"capacity": "250ml x 16"}, w=4200)
P("groc/milk", "fairlife",
  en="fairlife 2% Ultra-Filtered Milk, Reduced Fat, 52 fl oz",
  den="Ultra-filtered for 50% more protein and 50% less sugar than regular milk. Lactose-free.",
  usd=4.99, a={"capacity": "52 fl oz"}, w=1600)

# ===================================================== Books ========================================================
# brand = publisher; style = binding.
P("book/scifi", "Tor Books", key="three_body",
  en="The Three-Body Problem (Remembrance of Earth's Past, Book 1) by Cixin Liu, Paperback",
  den="Set against China's Cultural Revolution, a secret military project sends signals into space and makes contact "
      "with an alien civilization on the brink of destruction.",
  usd=11.99, a={"style": "paperback"}, w=410)
P("book/scifi", "重庆出版社", key="santi",
  zh="三体 全集（全三册）刘慈欣 著 雨果奖获奖作品 科幻小说",
  dzh="中国科幻里程碑之作，讲述地球文明与三体文明的信息交流、生死搏杀及两个文明在宇宙中的兴衰历程。",
  cny=93, a={"style": "paperback"}, w=1200)
P("book/scifi", "Ballantine Books",
  en="Project Hail Mary: A Novel by Andy Weir, Paperback",
  den="A lone astronaut wakes up with no memory on a desperate last-chance mission to save humanity. From the author "
      "of The Martian.",
  usd=12.99, a={"style": "paperback"}, w=520)
P("book/literary", "作家出版社",
  zh="活着 余华 著 作家出版社 当代文学经典",
  dzh="讲述农村人福贵悲惨的人生遭遇，展现了人在苦难中的坚韧与对生命的热爱。",
  cny=29.5, a={"style": "paperback"}, w=280)
P("book/literary", "北京十月文艺出版社",
  zh="平凡的世界（全三册）路遥 著 茅盾文学奖获奖作品",
  dzh="以孙少安、孙少平兄弟为中心，展现了上世纪七八十年代中国城乡社会的巨大变迁。",
  cny=99, a={"style": "paperback"}, w=1500)
P("book/literary", "南海出版公司",
  zh="百年孤独 加西亚·马尔克斯 著 范晔 译 精装",
  dzh="魔幻现实主义文学代表作，描写布恩迪亚家族七代人的传奇故事。",
  cny=39.5, a={"style": "hardcover"}, w=600)
P("book/literary", "Vintage",
  en="One Hundred Years of Solitude by Gabriel García Márquez, Paperback",
  den="The multi-generational story of the Buendía family in the mythical town of Macondo. A landmark of magical "
      "realism.",
  usd=13.99, a={"style": "paperback"}, w=380)
P("book/literary", "Riverhead Books",
  en="The Midnight Library: A Novel by Matt Haig, Hardcover",
  den="Between life and death there is a library, and every book offers a chance to try another life you could have "
      "lived.",
  usd=15.99, a={"style": "hardcover"}, w=520,
  ja=("ミッドナイト・ライブラリー マット・ヘイグ 著", "人生をやり直せる図書館を舞台にした世界的ベストセラー小説。", 2310, "ハーパーコリンズ・ジャパン"))
P("book/selfhelp", "Avery",
  en="Atomic Habits: An Easy & Proven Way to Build Good Habits & Break Bad Ones by James Clear, Hardcover",
  zh="掌控习惯：如何养成好习惯并戒除坏习惯 詹姆斯·克利尔 著",
  den="A practical framework for getting 1% better every day, with strategies to form good habits and break bad ones.",
  dzh="每天进步1%，一年后你会进步37倍。全球畅销的习惯养成实用指南。",
  usd=16.99, cny=45, a={"style": "hardcover"}, w=480, bzh="北京联合出版公司")
P("book/history", "Harper Perennial",
  en="Sapiens: A Brief History of Humankind by Yuval Noah Harari, Paperback",
  zh="人类简史：从动物到上帝 尤瓦尔·赫拉利 著 中信出版社",
  den="How did our species come to rule the planet? A sweeping history from the Stone Age to the twenty-first century.",
  dzh="从认知革命、农业革命到科学革命，讲述人类如何从无足轻重的动物成为地球的主宰。",
  usd=14.99, cny=45, a={"style": "paperback"}, w=560, bzh="中信出版社")
P("book/history", "北京联合出版公司",
  zh="明朝那些事儿（全9册）当年明月 著 增补版",
  dzh="以通俗幽默的语言讲述明朝三百年历史，让历史读起来像小说一样有趣。",
  cny=198, a={"style": "paperback"}, w=3500)
P("book/history", "上海人民出版社",
  zh="置身事内：中国政府与经济发展 兰小欢 著",
  dzh="以地方政府投融资为主线，深入浅出地讲述中国经济发展的逻辑。",
  cny=49, a={"style": "paperback"}, w=520)
P("book/kids", "Philomel Books",
  en="The Very Hungry Caterpillar by Eric Carle, Board Book",
  zh="好饿的毛毛虫 艾瑞·卡尔 著 精装绘本 0-3岁",
  den="The classic story of a caterpillar who eats his way through a wonderful variety of foods before becoming a "
      "butterfly.",
  dzh="经典洞洞书，毛毛虫吃啊吃，最后变成美丽的蝴蝶。认识数字、星期和食物。",
  usd=5.99, cny=39.8, a={"style": "board book"}, w=300, bzh="明天出版社")
P("book/tech", "Pearson",
  en="Clean Code: A Handbook of Agile Software Craftsmanship by Robert C. Martin, Paperback",
  zh="代码整洁之道 罗伯特·C.马丁 著 人民邮电出版社",
  den="Principles, patterns and practices of writing clean code, with case studies of cleaning up real code.",
  dzh="软件工程经典著作，通过大量案例讲解如何编写整洁、可读、易维护的代码。",
  usd=37.99, cny=59, a={"style": "paperback"}, w=750, bzh="人民邮电出版社")
P("book/tech", "O'Reilly Media",
  en="Designing Data-Intensive Applications by Martin Kleppmann, Paperback",
  zh="数据密集型应用系统设计 Martin Kleppmann 著 中国电力出版社",
  den="The big ideas behind reliable, scalable and maintainable systems: replication, partitioning, transactions and "
      "stream processing.",
  dzh="深入剖析可靠、可扩展、可维护系统背后的核心思想：复制、分区、事务与流处理。",
  usd=44.99, cny=98, a={"style": "paperback"}, w=1100, bzh="中国电力出版社")
P("book/tech", "No Starch Press",
  en="Python Crash Course, 3rd Edition: A Hands-On, Project-Based Introduction to Programming by Eric Matthes",
  den="A fast-paced introduction to Python that gets you writing programs, solving problems and building projects "
      "quickly.",
  usd=29.99, a={"style": "paperback"}, w=1000)

# =================================================== Furniture ======================================================
P("furn/chairs", "Herman Miller",
  en="Herman Miller Aeron Ergonomic Office Chair, Size B, Graphite",
  zh="赫曼米勒（Herman Miller）Aeron 人体工学椅 B号 石墨色 办公电脑椅",
  den="The benchmark ergonomic chair, with a breathable 8Z Pellicle suspension and adjustable PostureFit SL back "
      "support. 12-year warranty.",
  dzh="人体工学椅标杆，8Z Pellicle透气网面，PostureFit SL腰背支撑可调。12年质保。",
  usd=1805, cny=12800, a={"color": "black", "material": "mesh", "size": "B"}, w=19500, wm=144)
P("furn/chairs", "SIHOO", key="sihoo",
  en="SIHOO M57 Ergonomic Office Chair with Lumbar Support and Adjustable Headrest, {v}",
  zh="西昊（SIHOO）M57 人体工学椅 电脑椅 家用办公椅 护腰 {v}",
  den="A breathable mesh chair with adaptive lumbar support, a 3D headrest and flip-up arms. Reclines to 120 degrees.",
  dzh="透气网布椅背，自适应腰托，3D头枕，扶手可上翻。靠背可后仰至120度。",
  usd=199.99, cny=499, a={"material": "mesh"}, v=["black", "gray"], vzh=["black"], w=16000, wm=36,
  bzh="西昊")
P("furn/desks", "FlexiSpot",
  en="FlexiSpot E7 Electric Standing Desk with Dual Motors, 48 x 30 Inch, {v} Top",
  den="Dual motors lift up to 355 lb with a height range of 22.8 to 48.4 inches. Four memory presets and anti-collision "
      "protection.",
  usd=499.99, a={"material": "steel/particleboard", "size": "48 x 30 in"},
  v=[("Black", "", {"color": "black"})], w=35000, wm=60)
P("furn/desks", "乐歌",
  zh="乐歌（Loctek）E5 电动升降桌 站立办公 书桌 1.4m {v}",
  dzh="双电机驱动，升降平稳静音，4档记忆高度。遇阻回退防夹设计，坐站交替更健康。",
  cny=1699, a={"material": "steel/particleboard", "size": "140x70cm"}, v=[("White", "白色", {"color": "white"})],
  w=32000, wm=60)
P("furn/sofas", "Article",
  en="Article Sven 88\" Leather Sofa, Charme Tan",
  den="Full-grain aniline leather on a kiln-dried solid wood frame, with tufted cushions and solid walnut legs.",
  usd=2199, a={"color": "brown", "material": "leather", "style": "mid-century modern"}, w=68000, wm=12)
P("furn/sofas", "Zinus",
  en="ZINUS Josh Sofa Couch, 76 Inch, Easy Tool-Free Assembly, {v}",
  den="A tufted fabric sofa that arrives in one box and assembles without tools. Sturdy frame, firm cushions.",
  usd=299, a={"material": "polyester fabric", "style": "modern"}, v=["gray"], w=30000, wm=12)
P("furn/sofas", "顾家家居",
  zh="顾家家居（KUKA）真皮沙发 头层牛皮 现代简约 客厅三人位 {v}",
  dzh="头层牛皮面料，高回弹海绵填充，坐感舒适。现代简约设计，适合中大户型客厅。",
  cny=6999, a={"material": "leather", "style": "modern"}, v=["gray"], w=80000, wm=36)
P("furn/tables", "林氏家居",
  zh="林氏家居 岩板茶几 北欧简约 小户型客厅 圆形茶几 {v}",
  dzh="岩板台面耐磨耐高温，易清洁。圆润造型，小户型客厅也不显拥挤。",
  cny=699, a={"material": "sintered stone", "style": "nordic"}, v=["white"], w=28000, wm=36)
P("furn/shelves", "IKEA", key="kallax",
  en="IKEA KALLAX Shelf Unit, 4x4, {v}",
  zh="宜家 IKEA KALLAX 卡莱克 搁架单元 4x4格 {v}",
  den="Sixteen cube compartments for books, records and storage boxes. Stands upright or on its side.",
  dzh="16格方格设计，可放书籍、唱片或收纳盒。可竖放也可横放。",
  usd=169.99, cny=999, a={"material": "particleboard", "size": "147x147cm"},
  v=["white", ("Black-Brown", "黑褐色", {"color": "brown"})], vzh=["white"], w=57000)
P("furn/shelves", "IKEA",
  en="IKEA BILLY Bookcase, White, 31 1/2x11x79 1/2\"",
  den="Adjustable shelves adapt to your needs. The classic bookcase that has been around since 1979.",
  usd=79.99, a={"color": "white", "material": "particleboard"}, w=30000,
  de=("IKEA BILLY Bücherregal, weiß, 80x28x202 cm",
      "Verstellbare Böden für Bücher jeder Größe. Das klassische Regal seit 1979.", 59.99))
P("furn/mattress", "Casper",
  en="Casper Original Foam Mattress, Queen",
  den="Three layers of premium foam with Zoned Support to keep your spine aligned. Breathable open-cell top layer.",
  usd=1095, a={"material": "memory foam", "size": "Queen"}, w=36000, wm=120)
P("furn/mattress", "喜临门",
  zh="喜临门 乳胶弹簧床垫 独立袋装弹簧 1.8m*2m 22cm厚 席梦思",
  dzh="独立袋装弹簧分区支撑，天然乳胶层柔软亲肤。抗菌面料，适合双人使用。",
  cny=2599, a={"material": "latex/spring", "size": "1.8m x 2m"}, w=45000, wm=120)
P("furn/beds", "Zinus",
  en="ZINUS Suzanne Metal and Wood Platform Bed Frame, Queen",
  den="A sturdy metal frame with wood slats, no box spring needed. Ample under-bed storage space.",
  usd=189, a={"color": "black", "material": "metal/wood", "size": "Queen"}, w=23000, wm=60)
P("furn/beds", "源氏木语",
  zh="源氏木语 实木床 北美白橡木 1.8米双人床 北欧简约 主卧",
  dzh="北美白橡木实木框架，环保木蜡油涂装。简约北欧风格，承重稳固静音。",
  cny=3299, a={"color": "beige", "material": "white oak", "size": "1.8m"}, w=60000, wm=60)
P("furn/shelves", "ニトリ",
  ja=("ニトリ 3段 カラーボックス カラボ ホワイト", "シンプルで使いやすい3段ボックス。本や小物の収納に。", 1490))

# --------------------------------------------------------------------------------------------------------------------
# Hand-written text changes (the change stream's re-embedding cases): key -> (locale, variant index, fields).
# --------------------------------------------------------------------------------------------------------------------
TEXT_CHANGES = [
    ("iphone15", "en-US", 0, {"title": "Apple iPhone 15 (128 GB) - Black, Unlocked, USB-C",
                              "price": 699.0}),
    ("iphone15", "zh-CN", 0, {"title": "Apple/苹果 iPhone 15 (A3092) 128GB 黑色 支持移动联通电信5G 双卡双待手机【国家补贴】",
                              "price": 4799.0}),
    ("xm5", "en-US", 0, {"description": "Two processors control eight microphones for industry-leading noise canceling, "
                                        "with up to 30 hours of battery life and 3-minute quick charge for 3 hours of "
                                        "playback. Multipoint connection pairs with two devices at once."}),
    ("uniqlo_tee", "zh-CN", 1, {"title": "优衣库 男装 SUPIMA COTTON 圆领T恤 短袖 白色 2024春夏新款"}),
    ("ninja_af", "en-US", None, {"title": "Ninja AF101 Air Fryer, 4 Qt, Crisps, Roasts, Reheats & Dehydrates, Gray",
                                 "description": "Cook with up to 75% less fat than traditional deep frying. The 4-quart "
                                                "ceramic-coated basket fits 2 lb of fries, and the crisper plate and "
                                                "basket are dishwasher safe."}),
    ("santi", "zh-CN", None, {"title": "三体 全集（全三册）刘慈欣 著 典藏纪念版 雨果奖获奖作品 科幻小说",
                              "description": "中国科幻里程碑之作，典藏纪念版新增作者序言与插画。讲述地球文明与三体文明的"
                                             "信息交流、生死搏杀及两个文明在宇宙中的兴衰历程。"}),
    ("lego_orchid", "en-US", None, {"title": "LEGO Icons Orchid 10311 Artificial Plant Building Set for Adults "
                                              "(Retiring Soon)"}),
]

# Brand-new products that first appear in the change stream (upsert, version 1).
NEW_PRODUCTS = [
    dict(locale="en-US", cat="ele/phones", brand="Apple",
         title="Apple iPhone 16 (128 GB) - Ultramarine",
         description="Built for Apple Intelligence, with the new Camera Control, a 48MP Fusion camera and the A18 chip. "
                     "Action button and USB-C.",
         price=799.0, attributes={"color": "blue", "capacity": "128GB", "warehouse": "NJ-01", "weight_g": 170,
                                  "warranty_months": 12}),
    dict(locale="zh-CN", cat="ele/phones", brand="小米",
         title="小米15 徕卡光学Summilux镜头 骁龙8至尊版 12GB+256GB 白色 5G手机",
         description="徕卡Summilux光学镜头，骁龙8至尊版移动平台，5400mAh小米金沙江电池。6.36英寸1.5K屏幕，小屏也旗舰。",
         price=4499.0, attributes={"color": "white", "capacity": "256GB", "warehouse": "SH-01", "weight_g": 191,
                                   "warranty_months": 12}),
]


# --------------------------------------------------------------------------------------------------------------------
# Generation
# --------------------------------------------------------------------------------------------------------------------
def category_path(cat: str, locale: str) -> str:
    top = cat.split("/")[0]
    _, en_top, zh_top = TOP[top]
    en_rest, zh_rest = LEAVES[cat]
    return f"{zh_top} > {zh_rest}" if locale == "zh-CN" else f"{en_top} > {en_rest}"


def money(value: float, currency: str) -> float:
    """A plausible shelf price near ``value``: .99 endings for USD/EUR, ...9 or .9 endings for CNY, 1,980-style yen."""
    if currency in ("USD", "EUR"):
        return float(math.floor(value) - 0.01) if value >= 2 else round(value, 2)
    if currency == "CNY":
        if value >= 100:
            return float(round(value / 10) * 10 - 1)
        return float(math.floor(value) + 0.9) if value >= 10 else round(math.floor(value * 10) / 10, 1)
    return float(max(100, round(value / 100) * 100 - 20))  # JPY


def variant_specs(item: dict, locale: str) -> list[tuple[str, str, dict, tuple | None]]:
    raw = item["ven"] if locale == "en-US" and item["ven"] is not None else \
        item["vzh"] if locale == "zh-CN" and item["vzh"] is not None else item["v"]
    if raw is None:
        return [("", "", {}, None)]
    out = []
    for spec in raw:
        if isinstance(spec, str):
            en_label, zh_label = COLORS[spec]
            out.append((en_label, zh_label, {"color": spec}, None))
        else:
            out.append((spec[0], spec[1], dict(spec[2]), tuple(spec[3:5]) if len(spec) > 3 else None))
    return out


def make_title(template: str, label: str, sep: str) -> str:
    if "{v}" in template:
        return " ".join(template.replace("{v}", label).split()).replace(" ,", ",").rstrip(" ,-")
    return f"{template}{sep}{label}" if label else template


def build_catalog(rng: random.Random) -> tuple[list[dict], dict]:
    counters: Counter = Counter()
    rows: list[dict] = []
    by_key: dict = {}

    def next_sku(locale: str, cat: str) -> str:
        code = TOP[cat.split("/")[0]][0]
        counters[(locale, code)] += 1
        return f"{SKU_PREFIX[locale]}-{code}-{counters[(locale, code)]:04d}"

    def base_attrs(item: dict, locale: str, extra: dict, override: dict | None = None) -> dict:
        attrs = {**item["a"], **extra}
        attrs["warehouse"] = rng.choice(WAREHOUSES[locale])
        if item["w"]:
            attrs["weight_g"] = item["w"]
        if item["wm"]:
            attrs["warranty_months"] = item["wm"]
        attrs.update(override or {})
        return attrs

    for item in ITEMS:
        for locale, tpl, desc, price, sep in (("en-US", item["en"], item["den"], item["usd"], ", "),
                                             ("zh-CN", item["zh"], item["dzh"], item["cny"], " ")):
            if tpl is None:
                continue
            for vi, (en_label, zh_label, extra, prices) in enumerate(variant_specs(item, locale)):
                label = en_label if locale == "en-US" else zh_label
                p = price if prices is None else prices[0 if locale == "en-US" else 1]
                brand = item["bzh"] if locale == "zh-CN" and item["bzh"] else item["brand"]
                row = event(next_sku(locale, item["cat"]), make_title(tpl, label, sep), desc, brand,
                            category_path(item["cat"], locale), float(p), CURRENCY[locale], rng.random() < 0.9,
                            locale, base_attrs(item, locale, extra), "default")
                rows.append(row)
                if item["key"]:
                    by_key[(item["key"], locale, vi)] = row
        for locale, extra_listing in (("ja-JP", item["ja"]), ("de-DE", item["de"])):
            if not extra_listing:
                continue
            title, desc, price = extra_listing[:3]
            brand = extra_listing[3] if len(extra_listing) > 3 else item["brand"]
            first = variant_specs(item, "en-US")[0][2]
            rows.append(event(next_sku(locale, item["cat"]), title, desc, brand, category_path(item["cat"], locale),
                              float(price), CURRENCY[locale], rng.random() < 0.9, locale,
                              base_attrs(item, locale, first, extra_listing[4] if len(extra_listing) > 4 else None),
                              "default"))

    # The outlet tenant re-lists ~10% of the en/zh products (not groceries or books) at outlet prices under its own skus.
    eligible = [r for r in rows if r["locale"] in OUTLET_WAREHOUSES and not r["sku"].split("-")[1] in ("GRO", "BOK")]
    n_outlet = round(len(rows) / 9)  # ~10% of the final catalog
    outlet = []
    for r in sorted(rng.sample(eligible, n_outlet), key=lambda r: r["sku"]):
        attrs = dict(r["attributes"], warehouse=OUTLET_WAREHOUSES[r["locale"]])
        outlet.append(event("OUT-" + r["sku"], r["title"], r["description"], r["brand"], r["category"],
                            money(r["price"] * rng.choice((0.6, 0.65, 0.7, 0.75, 0.8)), r["currency"]),
                            r["currency"], rng.random() < 0.8, r["locale"], attrs, "outlet"))
    return rows + outlet, by_key


def event(sku, title, description, brand, category, price, currency, in_stock, locale, attributes, tenant) -> dict:
    return {"op": "upsert", "sku": sku, "version": 1, "title": title, "description": description, "brand": brand,
            "category": category, "price": round(float(price), 2), "currency": currency, "in_stock": bool(in_stock),
            "locale": locale, "attributes": attributes, "tenant": tenant}


def build_changes(rng: random.Random, catalog: list[dict], by_key: dict) -> tuple[list[dict], dict]:
    """A change stream in three waves (each sku at most once per wave, so versions rise in file order per sku)."""
    latest = {r["sku"]: 1 for r in catalog}
    state = {r["sku"]: r for r in catalog}

    def bump(sku: str) -> int:
        latest[sku] += 1
        return latest[sku]

    text_skus = []
    wave1: list[dict] = []
    for key, locale, vi, fields in TEXT_CHANGES:
        row = by_key[(key, locale, vi or 0)]
        text_skus.append(row["sku"])
        wave1.append({"op": "patch", "sku": row["sku"], "version": bump(row["sku"]), **fields})

    # New products: next free number in their locale/category.
    new_skus = []
    for spec in NEW_PRODUCTS:
        code = TOP[spec["cat"].split("/")[0]][0]
        prefix = f"{SKU_PREFIX[spec['locale']]}-{code}-"
        n = 1 + max(int(s[len(prefix):]) for s in state if s.startswith(prefix))
        sku = f"{prefix}{n:04d}"
        new_skus.append(sku)
        latest[sku] = 1
        wave1.append(event(sku, spec["title"], spec["description"], spec["brand"],
                           category_path(spec["cat"], spec["locale"]), spec["price"], CURRENCY[spec["locale"]], True,
                           spec["locale"], spec["attributes"], "default"))

    pool = sorted(s for s in state if s not in text_skus)
    picked = rng.sample(pool, 40)
    price_stock, repeat, deletes_plain, delete_after_patch = picked[:36], picked[:8], picked[36:40], picked[8]
    first_patch: dict[str, dict] = {}
    for sku in price_stock:
        row = state[sku]
        kind = rng.choice(("price", "price", "stock", "both"))
        patch = {"op": "patch", "sku": sku, "version": bump(sku)}
        if kind in ("price", "both"):
            patch["price"] = money(row["price"] * rng.choice((0.8, 0.85, 0.9, 0.95, 1.05, 1.1)), row["currency"])
            if patch["price"] == row["price"]:
                patch["price"] = money(row["price"] * 0.75, row["currency"])
        if kind in ("stock", "both"):
            patch["in_stock"] = not row["in_stock"]
        first_patch[sku] = patch
        wave1.append(patch)
    rng.shuffle(wave1)

    # Wave 2: the sale ends / the item is restocked (undoing wave 1 on some skus), deletes (one of them a sku that was
    # just patched), and the first patch of a brand-new product.
    wave2: list[dict] = []
    stale = None
    for sku in repeat:
        row, before = state[sku], first_patch[sku]
        patch = {"op": "patch", "sku": sku, "version": bump(sku)}
        if "price" in before:
            patch["price"] = row["price"]
        if "in_stock" in before:
            patch["in_stock"] = row["in_stock"]
        wave2.append(patch)
        if stale is None and "price" in before:
            # Arrives late with an older version than the sku's latest: a consumer must skip it.
            stale = {"op": "patch", "sku": sku, "version": latest[sku] - 1,
                     "price": money(row["price"] * 0.5, row["currency"])}
    deleted = deletes_plain + [delete_after_patch]
    for sku in deleted:
        wave2.append({"op": "delete", "sku": sku, "version": bump(sku)})
    wave2.append({"op": "patch", "sku": new_skus[0], "version": bump(new_skus[0]), "in_stock": False})
    rng.shuffle(wave2)

    changes = wave1 + wave2 + [stale]
    info = {"text": text_skus, "deleted": deleted, "new": new_skus, "stale": stale,
            "delete_after_patch": delete_after_patch}
    return changes, info


# --------------------------------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------------------------------
UPSERT_TYPES = {"op": str, "sku": str, "version": int, "title": str, "description": str, "brand": str,
                "category": str, "price": float, "currency": str, "in_stock": bool, "locale": str,
                "attributes": dict, "tenant": str}
PATCH_FIELDS = {"title": str, "description": str, "brand": str, "category": str, "price": float, "in_stock": bool,
                "attributes": dict}


def check_upsert(e: dict) -> None:
    assert list(e) == list(UPSERT_TYPES), e
    for k, t in UPSERT_TYPES.items():
        assert type(e[k]) is t, (k, e)
    assert e["sku"].isascii() and 0 < len(e["sku"]) <= 40, e["sku"]
    assert e["price"] > 0 and round(e["price"], 2) == e["price"], e
    assert e["currency"] == CURRENCY[e["locale"]], e
    assert e["tenant"] in ("default", "outlet"), e
    assert e["title"].strip() and e["description"].strip() and e["brand"].strip(), e
    assert 2 <= len([p for p in e["category"].split(" > ") if p.strip()]) <= 4, e["category"]


def validate(catalog_path: Path, changes_path: Path) -> None:
    catalog = [json.loads(line) for line in catalog_path.read_text(encoding="utf-8").splitlines()]
    skus = [e["sku"] for e in catalog]
    assert len(skus) == len(set(skus)), "duplicate skus in catalog"
    for e in catalog:
        assert e["op"] == "upsert" and e["version"] == 1, e
        check_upsert(e)
    # Category trees: every leaf must have the same top level per SKU code, in each language.
    tops = defaultdict(set)
    for e in catalog:
        tops[(e["sku"].split("-")[-2], e["locale"] == "zh-CN")].add(e["category"].split(" > ")[0])
    assert all(len(v) == 1 for v in tops.values()), tops
    known = set(skus)
    latest: dict[str, int] = {s: 1 for s in skus}
    stale = 0
    for line in changes_path.read_text(encoding="utf-8").splitlines():
        e = json.loads(line)
        assert type(e["version"]) is int and e["version"] >= 1, e
        if e["op"] == "upsert":
            check_upsert(e)
            assert e["sku"] not in known, f"new product reuses a sku: {e['sku']}"
            known.add(e["sku"])
        else:
            assert e["sku"] in known, f"change to unknown sku {e['sku']}"
            if e["op"] == "patch":
                extra = set(e) - {"op", "sku", "version"}
                assert extra and extra <= set(PATCH_FIELDS), e
                for k in extra:
                    assert type(e[k]) is PATCH_FIELDS[k], (k, e)
                if "price" in e:
                    assert e["price"] > 0 and round(e["price"], 2) == e["price"], e
            else:
                assert e["op"] == "delete" and set(e) == {"op", "sku", "version"}, e
        if e["version"] <= latest.get(e["sku"], 0):
            stale += 1
            continue
        latest[e["sku"]] = e["version"]
    assert stale == 1, f"expected exactly one stale event, found {stale}"


# --------------------------------------------------------------------------------------------------------------------
def dump(events: list[dict], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for e in events:
            f.write(json.dumps(e, ensure_ascii=False, separators=(",", ":")) + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out-dir", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--check", action="store_true", help="also print a summary of what was written")
    args = ap.parse_args(argv)

    rng = random.Random(SEED)
    catalog, by_key = build_catalog(rng)
    changes, info = build_changes(random.Random(SEED + 1), catalog, by_key)
    cat_path, chg_path = args.out_dir / "sample_catalog.jsonl", args.out_dir / "sample_changes.jsonl"
    dump(catalog, cat_path)
    dump(changes, chg_path)
    validate(cat_path, chg_path)
    print(f"wrote {len(catalog)} products to {cat_path} and {len(changes)} changes to {chg_path}")
    if args.check:
        zh_to_en = {zh: en for _, en, zh in TOP.values()}
        print("by locale:", dict(sorted(Counter(e["locale"] for e in catalog).items())))
        print("by tenant:", dict(sorted(Counter(e["tenant"] for e in catalog).items())))
        tops = Counter(zh_to_en.get(e["category"].split(" > ")[0], e["category"].split(" > ")[0]) for e in catalog)
        print("by top-level category:", dict(sorted(tops.items())))
        print("by op in changes:", dict(sorted(Counter(e["op"] for e in changes).items())))
        print("title/description changes:", info["text"])
        print("deleted:", info["deleted"], "(patched first:", info["delete_after_patch"] + ")")
        print("new products:", info["new"])
        print("stale event:", json.dumps(info["stale"], ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
