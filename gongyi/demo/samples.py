"""Sample organisations, projects, experts and evidence for a rehearsal.

The credit codes are valid GB 32100-2015 codes (check characters computed, registry-free), so a
newcomer can copy them; the organisations and projects are invented for practice.
"""

from __future__ import annotations

import io
import os
import tempfile

from PIL import Image, ImageDraw

ORGANISATIONS = [
    {"name": "北京阳光助学公益基金会", "type": "social_organisation", "credit_code": "53110000729436482R",
     "province": "北京市", "address": "北京市东城区"},
    {"name": "上海银龄数字生活服务中心", "type": "social_organisation", "credit_code": "533100003756893423",
     "province": "上海市", "address": "上海市静安区"},
    {"name": "杭州云帮扶网络科技有限公司", "type": "enterprise_institution", "credit_code": "91330100858137286J",
     "province": "浙江省", "address": "浙江省杭州市余杭区"},
    {"name": "天津应急志愿服务促进会", "type": "social_organisation", "credit_code": "5213010056553566XB",
     "province": "天津市", "address": "天津市和平区"},
]

PROJECTS = [
    {"org": 0, "unit": "cac-beijing", "name": "乡村留守儿童网络课堂", "category": "education",
     "summary": "通过互联网直播课堂为乡村留守儿童提供优质教育资源，由北京城区教师与乡村教师结对授课。",
     "results": "覆盖12个省份300所乡村学校，累计授课5000课时，受益学生5.2万人。",
     "innovation": "双师课堂模式可复制推广。"},
    {"org": 1, "unit": "cac-shanghai", "name": "银龄数字课堂", "category": "social_assistance",
     "summary": "面向社区老年人开设智能手机与网上办事课程，志愿者一对一辅导。",
     "results": "在上海16个区开课800场，服务老年人3.6万人次。",
     "innovation": "课程与社区服务中心常态化结合。"},
    {"org": 2, "unit": "cac-zhejiang", "name": "云上助农直播间", "category": "common_prosperity",
     "summary": "为山区农户搭建直播带货平台，培训新农人掌握网络销售技能。",
     "results": "帮助2100户农户销售农产品，销售额累计1.2亿元。",
     "innovation": "平台免佣金，培训与销售一体化。"},
    {"org": 3, "unit": "cac-tianjin", "name": "应急救援志愿者在线调度平台", "category": "emergency_rescue",
     "summary": "汛期与地震时在线汇集求助信息，调度志愿者与救援物资。",
     "results": "2023年汛期处理求助信息1.8万条，调度志愿者4200人次。",
     "innovation": "求助信息与救援力量实时匹配。"},
    {"org": 0, "unit": "cac-beijing", "name": "乡村儿童阅读点亮计划", "category": "education",
     "summary": "为乡村学校捐建图书角，并通过网络共读活动培养阅读习惯。",
     "results": "捐建图书角620个，组织线上共读活动1500场。",
     "innovation": "线上共读社群持续陪伴。"},
]

# the same project sent again through another channel (不得通过不同渠道重复申报): a duplicate to find
DUPLICATE_OF = 0
DUPLICATE = {"org": 0, "unit": "cac-hebei", "name": "留守儿童双师直播课堂", "category": "education",
             "summary": "通过互联网直播课堂为乡村留守儿童提供优质教育资源，北京城区教师与乡村教师结对授课。",
             "results": "覆盖12个省份300所乡村学校，累计授课5000课时，受益学生5.2万人。",
             "innovation": "双师课堂模式可复制推广。"}

EXPERTS = [
    {"expert_id": "demo-expert-1", "name": "王教授", "organisation": "某师范大学", "province": "湖北省",
     "expertise": ["education", "social_assistance"]},
    {"expert_id": "demo-expert-2", "name": "李研究员", "organisation": "某社会科学院", "province": "四川省",
     "expertise": ["common_prosperity", "emergency_rescue"]},
    {"expert_id": "demo-expert-3", "name": "赵主任", "organisation": "某互联网企业公益部", "province": "广东省",
     "expertise": ["education", "common_prosperity"]},
    {"expert_id": "demo-expert-4", "name": "陈秘书长", "organisation": "北京阳光助学公益基金会", "province": "北京市",
     "expertise": ["education"]},
]


def form(project: dict, started_on: str = "2021-03-01") -> dict:
    org = ORGANISATIONS[project["org"]]
    return {
        "project_name": project["name"],
        "category": project["category"],
        "applicant": dict(org),
        "contact": {"name": "张三", "title": "项目主管", "mobile": "13800138000", "email": "demo@example.org"},
        "started_on": started_on,
        "still_running": True,
        "summary": project["summary"],
        "implementation_results": project["results"],
        "innovation": project["innovation"],
        "approval": {"department": "民政局", "document_no": "民发〔2020〕12号"},
        "platform": {"website": "https://example.org"},
        "beneficiaries": 52000,
        "unit_code": project["unit"],
    }


def picture(width: int = 1600, height: int = 900, seed: int = 0) -> Image.Image:
    """A photo-like picture with large shapes (the perceptual hash needs structure)."""
    image = Image.new("RGB", (width, height), (20 + seed * 37 % 200, 90, 160))
    draw = ImageDraw.Draw(image)
    sx, sy = width / 100, height / 100
    offset = (seed * 13) % 40
    draw.ellipse([(10 + offset) * sx, 10 * sy, (50 + offset) * sx, 60 * sy], fill=(240, 210, 40))
    draw.rectangle([60 * sx, (40 + offset / 2) * sy, 95 * sx, 90 * sy], fill=(30, 30, 30))
    draw.polygon([(5 * sx, 95 * sy), (30 * sx, 65 * sy), (55 * sx, 95 * sy)], fill=(220, 60, 60))
    return image


def png(width: int = 1600, height: int = 900, seed: int = 0) -> bytes:
    out = io.BytesIO()
    picture(width, height, seed).save(out, format="PNG")
    return out.getvalue()


def mp4(frames: int = 12, width: int = 1280, height: int = 720, seed: int = 0) -> bytes:
    """A one-second H.264 clip (PyAV needs a real file to write MP4)."""
    import av

    fd, path = tempfile.mkstemp(suffix=".mp4")
    os.close(fd)
    try:
        with av.open(path, mode="w", format="mp4") as container:
            stream = container.add_stream("libx264", rate=12)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            stream.options = {"preset": "ultrafast"}
            for index in range(frames):
                frame = picture(width, height, seed)
                ImageDraw.Draw(frame).rectangle([index * 4, 0, index * 4 + 8, 8], fill=(255, 255, 255))
                for packet in stream.encode(av.VideoFrame.from_image(frame)):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        with open(path, "rb") as handle:
            return handle.read()
    finally:
        os.unlink(path)
