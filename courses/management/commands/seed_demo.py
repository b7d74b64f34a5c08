"""Demo data for a local KnowPay: creators with courses, a learner, and a staff account.

Idempotent: every object is looked up by its username or slug first, so a second run changes nothing.
"""

# Chinese text is written with its own full-width punctuation.
# ruff: noqa: RUF001

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import User
from accounts.selectors import creator_profile_get
from accounts.services import creator_profile_create
from courses.models import Course, Enrollment
from courses.services import course_create, course_publish, enrollment_grant, lesson_create
from knowpay.money import yuan_to_fen

DEMO_PASSWORD = "demo-pass-123"  # noqa: S105 (public on purpose: demo accounts only, refused in production)

CREATORS = [
    {
        "username": "teacher_wang",
        "email": "wang@demo.knowpay.local",
        "display_name": "王老师 · Teacher Wang",
        "bio": "十年数据分析经验，前互联网公司数据负责人。Ten years of data work; I teach what I use every day.",
        "payout_alipay_account": "13800138001",
        "payout_alipay_name": "王建国",
        "courses": [
            {
                "slug": "python-data-analysis",
                "title": "Python 数据分析入门 · Data Analysis with Python",
                "summary": "用 pandas 读懂数据：从清洗到可视化。From messy spreadsheets to clear charts.",
                "price": "49.00",
                "lessons": [
                    "课程介绍与环境搭建 · Setting up",
                    "pandas 基础 · DataFrames",
                    "数据清洗 · Cleaning data",
                    "可视化 · Charts with matplotlib",
                ],
            },
            {
                "slug": "excel-for-the-office",
                "title": "Excel 高效办公 · Excel for the Office",
                "summary": "函数、透视表和快捷键，每天省下一小时。Formulas, pivot tables, shortcuts.",
                "price": "9.90",
                "lessons": ["常用函数 · Everyday formulas", "数据透视表 · Pivot tables", "快捷键 · Shortcuts"],
            },
            {
                "slug": "hands-on-machine-learning",
                "title": "机器学习实战 · Hands-on Machine Learning",
                "summary": "从线性回归到梯度提升树。Regression to gradient boosting, with real data.",
                "price": "199.00",
                "lessons": ["什么是机器学习 · What ML is", "线性回归 · Linear regression", "决策树 · Decision trees"],
                "draft": True,
            },
        ],
    },
    {
        "username": "teacher_li",
        "email": "li@demo.knowpay.local",
        "display_name": "李老师 · Teacher Li",
        "bio": "摄影师、产品经理，喜欢把复杂的事讲简单。Photographer and product manager.",
        "payout_alipay_account": "li.payout@example.com",
        "payout_alipay_name": "李娜",
        "courses": [
            {
                "slug": "photography-from-zero",
                "title": "零基础学摄影 · Photography from Zero",
                "summary": "用手机也能拍出好照片。Great photos with the phone in your pocket.",
                "price": "0",
                "lessons": ["光线 · Light", "构图 · Composition", "后期 · Editing"],
            },
            {
                "slug": "product-management-in-practice",
                "title": "产品经理进阶 · Product Management in Practice",
                "summary": "需求、优先级与数据驱动的决策。Requirements, priorities and decisions.",
                "price": "199.00",
                "lessons": [
                    "产品经理的一天 · A day in the job",
                    "需求分析 · Understanding needs",
                    "优先级 · Prioritising",
                    "数据驱动 · Deciding with data",
                    "沟通与协作 · Working with people",
                ],
            },
            {
                "slug": "business-english-writing",
                "title": "商务英语写作 · Business English Writing",
                "summary": "邮件、报告和提案。E-mails, reports and proposals that get answers.",
                "price": "49.00",
                "lessons": ["邮件 · E-mails", "报告 · Reports", "提案 · Proposals", "常见错误 · Common mistakes"],
            },
        ],
    },
]
LEARNER = {"username": "learner", "email": "learner@demo.knowpay.local"}
STAFF = {"username": "admin", "email": "admin@demo.knowpay.local"}
FREE_COURSE_FOR_LEARNER = "photography-from-zero"


class Command(BaseCommand):
    help = "Create demo creators, courses, a learner and a staff account (safe to run again)."

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG and not settings.PAYMENTS_SANDBOX:
            raise CommandError("seed_demo creates accounts with a public password; it refuses to run in production.")
        with transaction.atomic():
            created = self._seed()
        self.stdout.write(f"{created} demo object(s) created." if created else "Demo data already there.")
        self.stdout.write("\nDemo log-ins (username / password):")
        for username, role in [
            *((creator["username"], "creator") for creator in CREATORS),
            (LEARNER["username"], "learner"),
            (STAFF["username"], "staff superuser, can open /admin/"),
        ]:
            self.stdout.write(f"  {username} / {DEMO_PASSWORD}   ({role})")

    def _seed(self) -> int:
        created = 0
        for spec in CREATORS:
            creator, is_new = self._user(spec)
            created += is_new
            if creator_profile_get(user=creator) is None:
                creator_profile_create(
                    user=creator,
                    display_name=spec["display_name"],
                    bio=spec["bio"],
                    payout_alipay_account=spec["payout_alipay_account"],
                    payout_alipay_name=spec["payout_alipay_name"],
                )
                created += 1
            for course_spec in spec["courses"]:
                created += self._course(creator, course_spec)

        learner, is_new = self._user(LEARNER)
        created += is_new
        free_course = Course.objects.get(slug=FREE_COURSE_FOR_LEARNER)
        if not Enrollment.objects.filter(learner=learner, course=free_course).exists():
            enrollment_grant(learner=learner, course=free_course, source=Enrollment.Source.FREE)
            created += 1

        if not User.objects.filter(username=STAFF["username"]).exists():
            User.objects.create_superuser(username=STAFF["username"], email=STAFF["email"], password=DEMO_PASSWORD)
            created += 1
        return created

    def _user(self, spec: dict) -> tuple[User, bool]:
        user = User.objects.filter(username=spec["username"]).first()
        if user is not None:
            return user, False
        # Demo accounts are active at once; a real sign-up confirms its e-mail address first.
        return User.objects.create_user(username=spec["username"], email=spec["email"], password=DEMO_PASSWORD), True

    def _course(self, creator: User, spec: dict) -> int:
        if Course.objects.filter(slug=spec["slug"]).exists():
            return 0
        course = course_create(
            creator=creator,
            title=spec["title"],
            slug=spec["slug"],
            summary=spec["summary"],
            description=f"{spec['summary']}\n\n本课程共 {len(spec['lessons'])} 节。{len(spec['lessons'])} lessons.",
            price_fen=yuan_to_fen(spec["price"]),
        )
        for position, title in enumerate(spec["lessons"], start=1):
            lesson_create(
                course=course,
                title=title,
                body=f"{title}\n\n这是演示课程内容。This is demo lesson content.",
                is_preview=position == 1,
            )
        if not spec.get("draft"):
            course_publish(course=course)
        return 1 + len(spec["lessons"])
