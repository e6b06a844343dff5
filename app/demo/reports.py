"""What the demo city's residents and staff write: per category, reports in Thai (most people)
and in English (some), the words of a fix, and residents' answers. Written for the demo (the
Traffy Fondue sample may not be shipped); `{where}` is filled with a place near the pin."""

from __future__ import annotations

from typing import Final

# (title, description) pairs; the first ones in Thai, the last in English.
REPORTS: Final[dict[str, list[tuple[str, str]]]] = {
    "streetlight": [
        ("ไฟถนนดับทั้งซอย", "ไฟถนน{where}ดับมาหลายคืนแล้ว มืดมาก เดินกลับบ้านตอนกลางคืนไม่ปลอดภัย"),
        ("ไฟส่องสว่างกะพริบ", "เสาไฟ{where}กะพริบตลอดทั้งคืน ขอให้ช่วยเปลี่ยนหลอดด้วยครับ"),
        ("เสาไฟเอียงจะล้ม", "เสาไฟฟ้าส่องสว่าง{where}เอียงมาก กลัวจะล้มทับคนเดินผ่าน"),
        ("Street light out", "The lamp {where} has been off for a week; the corner is pitch dark."),
    ],
    "pothole": [
        ("ถนนเป็นหลุมลึก", "ถนน{where}เป็นหลุมลึก รถจักรยานยนต์ตกหลุมเกือบล้มหลายคัน"),
        ("ผิวถนนยุบ", "ผิวถนน{where}ยุบตัวหลังฝนตก น้ำขังในหลุม มองไม่เห็นตอนกลางคืน"),
        ("Deep pothole", "A deep pothole {where}; motorbikes swerve into traffic to avoid it."),
    ],
    "footpath": [
        ("ทางเท้าแตกเป็นหลุม", "แผ่นทางเท้า{where}แตกและยกตัว ผู้สูงอายุสะดุดล้มมาแล้ว"),
        ("ฟุตบาทยุบ", "ฟุตบาท{where}ยุบเป็นแอ่ง เวลาฝนตกน้ำขัง เดินไม่ได้"),
        ("Broken paving", "Loose and broken paving slabs {where}; hard to pass with a pram."),
    ],
    "obstruction": [
        ("รถจอดขวางทางเท้า", "มีรถจอดบนทางเท้า{where}ทุกวัน คนเดินต้องลงไปเดินบนถนน"),
        ("แผงลอยกีดขวางทางเดิน", "แผงลอย{where}วางของเต็มทางเท้า รถเข็นผ่านไม่ได้"),
        ("Stalls block the footpath", "Stalls {where} cover the whole footpath every evening."),
    ],
    "accessibility": [
        ("ทางลาดชำรุด", "ทางลาดสำหรับรถเข็น{where}แตกหัก ใช้งานไม่ได้"),
        ("เบรลล์บล็อกถูกกีดขวาง", "เบรลล์บล็อก{where}มีป้ายโฆษณาวางทับ ผู้พิการทางสายตาเดินชน"),
    ],
    "garbage": [
        ("ขยะไม่มีคนเก็บ", "ขยะกองอยู่{where}มาสามวันแล้ว ส่งกลิ่นเหม็นและมีสุนัขมาคุ้ย"),
        ("มีคนแอบทิ้งขยะ", "มีการลักลอบทิ้งขยะและเศษวัสดุก่อสร้าง{where}ทุกคืน"),
        ("ถังขยะล้น", "ถังขยะ{where}ล้นออกมาบนทางเท้า ขอเพิ่มรอบการเก็บด้วยค่ะ"),
        ("Rubbish not collected", "Bags of rubbish piled up {where} since the weekend."),
    ],
    "drain-blocked": [
        ("ท่อระบายน้ำอุดตัน", "ท่อระบายน้ำ{where}อุดตัน ฝนตกนิดเดียวน้ำก็ขังเต็มถนน"),
        ("ฝาท่อหาย", "ฝาท่อระบายน้ำ{where}หายไป เป็นหลุมอันตรายมาก"),
        ("Blocked drain", "The drain {where} is full of mud; water stands for hours after rain."),
    ],
    "flooding": [
        ("น้ำท่วมขังหลังฝนตก", "น้ำท่วมขัง{where}สูงประมาณ 30 ซม. รถเล็กผ่านไม่ได้"),
        ("น้ำท่วมซอย", "ฝนตกทีไรน้ำท่วมซอย{where}ทุกครั้ง ระบายช้ามาก"),
        ("Flooded road", "The road {where} floods after every storm; cars stall in the water."),
    ],
    "tree": [
        ("กิ่งไม้บังไฟถนน", "กิ่งไม้{where}ยื่นออกมาบังไฟถนนและป้ายจราจร ขอให้ตัดแต่ง"),
        ("ต้นไม้ล้มขวางทาง", "ต้นไม้ล้ม{where}หลังพายุเมื่อคืน ขวางทางเท้าครึ่งหนึ่ง"),
        ("Branch hanging low", "A broken branch hangs over the footpath {where}."),
    ],
    "canal": [
        ("ผักตบชวาเต็มคลอง", "ผักตบชวาหนาแน่นเต็มคลอง{where} น้ำไม่ไหล ยุงเยอะมาก"),
        ("น้ำในคลองเน่าเสีย", "น้ำในคลอง{where}ดำและส่งกลิ่นเหม็น มีขยะลอยเต็มไปหมด"),
    ],
    "stray-animals": [
        ("สุนัขจรจัดไล่กัด", "สุนัขจรจัดหลายตัว{where}ไล่กัดคนที่ขี่จักรยานผ่านตอนเช้า"),
        ("แมวจรจัดจำนวนมาก", "แมวจรจัด{where}เพิ่มขึ้นเรื่อย ๆ ขอให้ช่วยทำหมันด้วยค่ะ"),
    ],
    "noise": [
        ("เสียงก่อสร้างกลางคืน", "ไซต์ก่อสร้าง{where}ทำงานเสียงดังจนถึงตีสองทุกคืน"),
        ("ร้านเปิดเพลงเสียงดัง", "ร้าน{where}เปิดเพลงเสียงดังมากจนดึก นอนไม่ได้"),
        ("Loud music at night", "A bar {where} plays loud music until 2 am every night."),
    ],
    "traffic-signal": [
        ("ไฟจราจรดับ", "สัญญาณไฟจราจร{where}ดับ รถติดยาวและเกือบชนกันหลายครั้ง"),
        ("ไฟแดงค้าง", "ไฟจราจร{where}ค้างเป็นไฟแดงนานผิดปกติ"),
        ("Traffic light dark", "The traffic lights {where} are dark; the junction is chaos."),
    ],
    "water-leak": [
        ("ท่อประปาแตก", "ท่อประปา{where}แตก น้ำไหลนองถนนตลอดทั้งวัน"),
        ("น้ำประปารั่ว", "น้ำประปารั่วซึมขึ้นมาจากพื้นถนน{where}"),
        ("Burst water pipe", "Water has been gushing from a pipe {where} since this morning."),
    ],
    "power-lines": [
        ("สายไฟห้อยต่ำ", "สายไฟและสายสื่อสาร{where}ห้อยต่ำ รถบรรทุกเกี่ยวขาดไปแล้วหนึ่งเส้น"),
        ("สายสื่อสารพันกัน", "สายสื่อสาร{where}พันกันยุ่งเหยิงและหย่อนลงมาเกือบถึงพื้น"),
        ("Cables hanging low", "Telecom cables sag {where}, low enough to touch."),
    ],
    "general": [
        ("ป้ายบอกทางหาย", "ป้ายชื่อซอย{where}หายไป คนส่งของหาบ้านไม่เจอ"),
        ("ม้านั่งในสวนหัก", "ม้านั่ง{where}หักพัง นั่งไม่ได้"),
        ("Missing street sign", "The street name sign {where} is gone."),
    ],
}

# Places near a pin, as residents name them ({n}: a soi number).
PLACES_TH: Final = (
    "หน้าปากซอย {n}",
    "ในซอย {n}",
    "ใกล้ป้ายรถเมล์หน้าตลาด",
    "หน้าโรงเรียน",
    "ข้างร้านสะดวกซื้อ ซอย {n}",
    "หน้าวัด",
    "ใกล้สะพานลอย",
    "ริมถนนใหญ่ ตรงข้ามซอย {n}",
)
PLACES_EN: Final = (
    "at the mouth of soi {n}",
    "in soi {n}",
    "by the bus stop near the market",
    "opposite the school",
    "next to the 7-Eleven in soi {n}",
)

# What staff write when they take the next step (shown as written, labelled as theirs).
STARTED_NOTES: Final = (
    "ส่งเจ้าหน้าที่ลงพื้นที่ตรวจสอบแล้ว",
    "ประสานทีมช่างแล้ว จะเข้าดำเนินการภายในสัปดาห์นี้",
    "ได้รับเรื่องแล้ว อยู่ระหว่างจัดหาวัสดุ",
)
RESOLVED_NOTES: Final = (
    "ดำเนินการแก้ไขเรียบร้อยแล้ว",
    "เจ้าหน้าที่เข้าซ่อมแซมแล้ว ขอบคุณที่แจ้งเรื่องครับ",
    "แก้ไขแล้ว หากยังพบปัญหาแจ้งกลับได้เลยครับ",
)

# Residents' words with their answer: (stars, comment) when fixed, comment when not.
FIXED_COMMENTS: Final = (
    (5, "ขอบคุณมากครับ แก้ไขรวดเร็วมาก"),
    (5, "เรียบร้อยดีค่ะ ประทับใจ"),
    (4, "แก้ไขแล้ว แต่ใช้เวลานานไปหน่อย"),
    (3, "ดีขึ้นแล้ว แต่ยังไม่เรียบร้อยทั้งหมด"),
    (4, "Fixed, thank you!"),
    (2, "แก้แล้วแต่ช้ามาก รอเกือบเดือน"),
)
NOT_FIXED_COMMENTS: Final = (
    "ยังไม่ได้แก้ไขเลยครับ ปัญหาเหมือนเดิม",
    "มาดูแล้วแต่ยังไม่เรียบร้อย กลับมาเป็นอีกแล้ว",
    "Still not fixed, nothing changed.",
)
