"""Deterministic generator of the bundled sample municipality (サンプル市).

Everything in ``data/sample/`` is invented. The generator plants known truths so the
analysis can be checked against them (see ``docs/sample.md``):

* 4 staff segments in the space of the 6 constructs (推進リーダー層, 意欲はあるがスキルに不安,
  懐疑的, 低関与), whose prevalence depends on department and age;
* 5 prior hypotheses with known verdicts (2 支持, 1 反証, 2 判定不能 with an effect of exactly
  zero in the generating model);
* uneven response rates by department and age, so roster weighting changes the estimates;
* a small department (会計課) with fewer than 5 respondents, for privacy suppression;
* free-text comments, a few with invented personal data, for redaction;
* a training evaluation (pre / post / follow-up) with a known effect and planted key
  matching problems;
* a roadmap with exactly one dependency violation.

The public API is :func:`generate_sample` (in memory, no file I/O) and
:func:`write_sample` (writes the folder). Same arguments → byte-identical files.
Generation is vectorised over respondents (100,000 respondents take a few seconds).
"""

from __future__ import annotations

import datetime as _dt
import importlib.resources
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from .survey import bh_adjust

__all__ = ["SampleData", "generate_sample", "write_sample", "render_files", "SEGMENT_NAMES"]

# --------------------------------------------------------------------------- constants
DEFAULT_SEED = 20251126
FISCAL_YEAR = 2025
DATA_DATE = _dt.date(2025, 10, 31)
SURVEY_START = _dt.date(2025, 10, 6)
SURVEY_END = _dt.date(2025, 10, 24)
STAFF_PER_RESPONDENT = 2.8  # 500 respondents ↔ 1,400 staff

GRADES = ["一般職員", "係長級", "課長補佐級", "課長級以上"]
AGE_BANDS = ["20代以下", "30代", "40代", "50代以上"]
EMPLOYMENTS = ["正規職員", "会計年度任用職員"]

#: name, staff at n=500, relative response rate, age distribution of its staff
DEPARTMENTS: list[tuple[str, int, float, tuple[float, float, float, float]]] = [
    ("総務部", 180, 0.45, (0.20, 0.25, 0.27, 0.28)),
    ("企画政策部", 90, 0.62, (0.30, 0.32, 0.22, 0.16)),
    ("市民部", 220, 0.35, (0.20, 0.25, 0.27, 0.28)),
    ("福祉部", 250, 0.30, (0.20, 0.25, 0.27, 0.28)),
    ("こども未来部", 200, 0.33, (0.22, 0.27, 0.26, 0.25)),
    ("環境部", 120, 0.38, (0.18, 0.24, 0.28, 0.30)),
    ("都市整備部", 170, 0.20, (0.16, 0.22, 0.28, 0.34)),
    ("教育委員会", 158, 0.36, (0.16, 0.22, 0.28, 0.34)),
    ("会計課", 12, 0.25, (0.17, 0.25, 0.25, 0.33)),
]
SMALL_DEPARTMENT = "会計課"

#: share of 会計年度任用職員 in every department × age cell (constant on purpose: it makes
#: employment independent of department and age, so H5 has an effect of exactly zero)
FIXED_TERM_SHARE = 0.22
#: grade distribution of 正規職員 by age band (会計年度任用職員 are all 一般職員)
GRADE_BY_AGE = np.array(
    [
        [0.97, 0.03, 0.00, 0.00],
        [0.62, 0.33, 0.05, 0.00],
        [0.28, 0.38, 0.22, 0.12],
        [0.14, 0.22, 0.24, 0.40],
    ]
)
#: relative response propensity by age band (young staff answer more)
AGE_RESPONSE = np.array([1.5, 1.2, 0.9, 0.6])

SEGMENT_NAMES = {1: "推進リーダー層", 2: "意欲はあるがスキルに不安", 3: "懐疑的", 4: "低関与"}
CONSTRUCT_IDS = ["mind", "why", "data", "tech", "use", "caution"]
#: latent construct level (1..5 scale) of each segment; rows = segments 1..4
SEGMENT_CENTROIDS = np.array(
    [
        [4.20, 4.20, 4.00, 4.10, 4.10, 4.00],
        [4.10, 4.10, 2.00, 1.90, 2.00, 3.00],
        [1.90, 1.90, 3.40, 3.50, 3.30, 3.60],
        [1.90, 2.00, 1.90, 1.80, 1.80, 2.30],
    ]
)
SEGMENT_BASE = np.array([0.20, 0.28, 0.22, 0.30])
#: multiplicative tilt of segment prevalence by department (others 1)
SEGMENT_DEPT_TILT = {
    "企画政策部": [3.0, 1.0, 0.8, 0.5],
    "総務部": [1.4, 1.0, 1.0, 0.9],
    "都市整備部": [0.7, 0.9, 1.2, 1.5],
}
#: multiplicative tilt of segment prevalence by age band (rows = AGE_BANDS)
SEGMENT_AGE_TILT = np.array(
    [
        [1.6, 0.5, 1.6, 1.0],
        [1.3, 0.7, 1.3, 1.0],
        [0.9, 1.1, 0.9, 1.0],
        [0.6, 2.0, 0.6, 1.0],
    ]
)
PERSON_SD = 0.35  # person-level spread of a latent construct within a segment
ITEM_SD = 0.65  # item-level noise around the latent construct
DONT_KNOW_RATE = 0.02
EMPTY_RATE = 0.01

#: direct (non-segment) effects on latent constructs, used by the hypotheses
MIND_OLDER_EFFECT = 0.45  # 50代以上 +0.45 on mind (H1 is contradicted)
TECH_AGE_EFFECT = np.array([0.0, 0.0, 0.0, -0.05])  # by age band (H2 supported)
WHY_MANAGER_EFFECT = 0.85  # 課長級以上 +0.85 on why (H4 supported)

AGREE5 = {1: "まったくそう思わない", 2: "あまりそう思わない", 3: "どちらともいえない", 4: "ややそう思う", 5: "とてもそう思う"}
SAT5 = {1: "不満", 2: "やや不満", 3: "どちらともいえない", 4: "やや満足", 5: "満足"}
DONT_KNOW = "わからない"
TOOL_YES, TOOL_NO = "使っている", "使っていない"
YES, NO = "はい", "いいえ"

CONSTRUCTS = {
    "mind": {"label": "マインド・スタンス", "area": "マインド・スタンス", "label_en": "Mind and stance"},
    "why": {"label": "DXの背景", "area": "Why(DXの背景)", "label_en": "Why DX"},
    "data": {"label": "データ活用", "area": "What(データ・技術)", "label_en": "Data"},
    "tech": {"label": "デジタル技術", "area": "What(データ・技術)", "label_en": "Digital technology"},
    "use": {"label": "データ・技術の利活用", "area": "How(データ・技術の利活用)", "label_en": "Using data and technology"},
    "caution": {"label": "セキュリティ・留意点", "area": "How(データ・技術の利活用)", "label_en": "Security and cautions"},
}

#: (item id, survey header, short label, reverse, item offset on the latent scale)
ITEMS: list[tuple[str, str, str, bool, float]] = [
    ("mind_01", "仕事のやり方が変わることを前向きに受け止め、新しい方法をまず試してみるようにしている", "変化への前向きさ", False, 0.10),
    ("mind_02", "他の課や外部の人と協力して、課題の解決に取り組むことができる", "協働", False, 0.20),
    ("mind_03", "住民や利用者の立場に立って、手続きやサービスの不便さに気づくことができる", "利用者視点", False, 0.25),
    ("mind_04", "前例のないやり方は、できるだけ避けたほうがよいと思う", "前例踏襲志向", True, -0.10),
    ("mind_05", "小さく試して、結果を見ながら改善していく進め方がよいと思う", "反復的な進め方", False, 0.00),
    ("why_01", "人口減少や職員数の減少により、今の業務のやり方を続けるのは難しくなると思う", "社会の変化", False, 0.25),
    ("why_02", "住民が行政サービスに求める便利さやスピードが、以前より高くなっていると感じる", "住民ニーズの変化", False, 0.15),
    ("why_03", "自治体DXは、自分の部署の業務にも深く関係することだと思う", "自分ごと化", False, -0.05),
    ("why_04", "DXは情報担当の部署が進めるもので、自分の仕事にはあまり関係がない", "他人ごと意識", True, -0.15),
    ("why_05", "デジタル化によって、職員が住民と向き合う時間を増やせると思う", "DXの意義", False, 0.00),
    ("data_01", "表やグラフから、数字の傾向や特徴を読み取ることができる", "データを読む", False, 0.25),
    ("data_02", "業務のデータを集計して、上司や住民に分かりやすく説明できる", "データを説明する", False, -0.10),
    ("data_03", "判断するときは、経験や勘だけでなくデータを確認するようにしている", "データに基づく判断", False, 0.05),
    ("data_04", "表計算ソフトで集計や並べ替えをするのは苦手だ", "集計の苦手意識", True, 0.00),
    ("data_05", "データを扱うときは、入力の誤りや欠けている値がないか注意している", "データの扱い", False, 0.20),
    ("tech_01", "クラウドサービスとは何か、同僚に簡単に説明できる", "クラウドの理解", False, -0.10),
    ("tech_02", "AIや生成AIで何ができて何ができないか、おおまかに理解している", "AIの理解", False, 0.00),
    ("tech_03", "新しいアプリやツールの操作を、マニュアルがなくてもある程度覚えられる", "ツール習得", False, 0.20),
    ("tech_04", "パソコンやネットワークの仕組みについての話は、よく分からない", "技術への苦手意識", True, -0.05),
    ("tech_05", "RPAやノーコードツールでどのような作業を自動化できるか、想像できる", "自動化の理解", False, -0.20),
    ("use_01", "自分の業務の中で、デジタル技術を使って改善できそうな作業を挙げることができる", "改善点の発見", False, 0.10),
    ("use_02", "他の自治体や民間のデジタル活用事例を、自分の業務に当てはめて考えたことがある", "事例の応用", False, -0.05),
    ("use_03", "業務の手順を見直し、紙や押印をなくす提案をしたことがある", "業務見直しの提案", False, -0.25),
    ("use_04", "新しいツールが導入されても、これまでのやり方で仕事を続けることが多い", "従来手法への固執", True, 0.00),
    ("use_05", "デジタルツールを使って、課内の情報共有や作業の効率を上げている", "ツール活用", False, 0.15),
    ("caution_01", "不審なメールや添付ファイルを開かないなど、情報セキュリティの基本を守っている", "セキュリティの基本", False, 0.30),
    ("caution_02", "個人情報を扱うときの庁内ルールを理解し、守っている", "個人情報の取扱い", False, 0.25),
    ("caution_03", "生成AIに入力してはいけない情報が何かを理解している", "生成AIの留意点", False, -0.20),
    ("caution_04", "業務の効率のためなら、多少ルールを省略してもかまわないと思う", "ルール軽視", True, 0.10),
    ("caution_05", "インターネット上の情報やAIの回答が正しいか、確かめてから使っている", "情報の真偽確認", False, -0.05),
]

#: (tool id, survey header, label)
TOOLS = [
    ("tool_chat", "業務でビジネスチャットを使っていますか", "ビジネスチャット"),
    ("tool_web", "業務でWeb会議を使っていますか", "Web会議"),
    ("tool_genai", "業務で生成AIを使っていますか", "生成AI"),
    ("tool_rpa", "業務でRPAを使っていますか", "RPA"),
    ("tool_eapp", "業務で電子申請の管理画面を使っていますか", "電子申請の管理画面"),
]
#: probability of "使っている" by segment (tool_chat is the same for everyone: H3 null)
TOOL_CHAT_RATE = 0.80
TOOL_SEGMENT_RATE = {
    "tool_web": [0.95, 0.80, 0.88, 0.65],
    "tool_genai": [0.55, 0.12, 0.35, 0.08],
    "tool_rpa": [0.30, 0.05, 0.18, 0.04],
}
EAPP_DEPT_RATE = {"市民部": 0.60, "福祉部": 0.50, "こども未来部": 0.50}
EAPP_OTHER_RATE = 0.15
EAPP_SEGMENT_FACTOR = [1.2, 0.9, 1.0, 0.8]
TOOL_EMPTY_RATE = 0.01

COMMENT_HEADER = "DX推進について自由にご意見をお書きください"
COMMENT_RATE_BY_SEGMENT = np.array([0.55, 0.45, 0.45, 0.22])

ATTRIBUTE_HEADERS = {"department": "所属部署", "grade": "職層", "age_band": "年代", "employment": "雇用形態"}
FORMS_HEADERS = ["ID", "開始時刻", "完了時刻", "メール", "名前"]

# --------------------------------------------------------------------------- free text
_TOOL_FILLS = ["ビジネスチャット", "Web会議", "生成AI", "RPA", "電子申請"]
_PREFIXES = ["", "個人的には、", "日ごろ感じていることですが、"]
_COMMENT_TEMPLATES: dict[int | str, list[str]] = {
    1: [
        "{tool}をもっと全庁で活用できるよう、使い方を共有する場がほしいです。",
        "各課に推進役を置いて、小さな改善を積み重ねていくのがよいと思います。",
        "紙の申請書を電子申請に切り替えたところ、入力の手間が大きく減りました。他の課にも広げたいです。",
        "{tool}の利用ルールが課ごとに違うので、全庁で統一してほしいです。",
        "業務データをダッシュボードで見られるようにすれば、会議の時間を短くできると思います。",
        "{tool}の試行に参加したいです。議事録の要約や資料の下書きで効果が出そうです。",
        "定型作業を自動化した事例を、庁内でもっと紹介してほしいです。",
    ],
    2: [
        "DXが必要なのは分かりますが、何から始めればよいか分かりません。基礎から教えてほしいです。",
        "{tool}の操作に自信がないので、少人数で質問しながら学べる研修があるとありがたいです。",
        "若い職員に聞くのも気が引けるので、気軽に相談できる窓口がほしいです。",
        "研修は動画よりも、実際の業務の画面で練習できる形式がよいです。",
        "新しいシステムが次々に入ってきて、覚えるのが追いつきません。",
        "住民のためにもデジタル化は進めるべきだと思いますが、自分のスキルが足りないと感じます。",
        "表計算ソフトの集計がもっとできるようになりたいです。",
    ],
    3: [
        "DXと言われても、結局は仕事が増えるだけではないかと感じます。",
        "窓口に来る高齢の住民には、デジタル化はかえって不便だと思います。",
        "{tool}を導入しても使われていない例が多いです。目的をはっきりさせてから進めてほしいです。",
        "システムの入れ替えのたびに現場の負担が大きいです。現場の声を聞いてほしいです。",
        "流行りの言葉に振り回されず、本当に必要な業務から見直すべきだと思います。",
        "効果の検証がないまま新しいツールを増やすのはやめてほしいです。",
        "対面でのやり取りにも大切な役割があると思います。",
    ],
    4: [
        "特になし。",
        "忙しくて研修に出る時間がありません。",
        "よく分かりません。",
        "今の業務で困っていることは特にありません。",
        "説明が難しい言葉ばかりで、自分には関係がないように感じます。",
        "もう少し分かりやすい資料がほしいです。",
    ],
    "all": [
        "ネットワークが分かれていて、{tool}を使える端末が限られているのが不便です。",
        "パソコンの動作が遅く、Web会議が途切れることがあります。",
        "ペーパーレス化を進めるなら、モニターを2台にしてほしいです。",
    ],
}

#: comments with invented personal data (for redaction tests): text, kinds, values
PERSONAL_COMMENTS: list[tuple[str, list[str], list[str]]] = [
    ("山田さんに教えてもらって、ビジネスチャットを使えるようになりました。研修の講師もお願いしたいです。", ["name"], ["山田さん"]),
    (
        "システムの不具合は佐藤課長の携帯(090-1234-5678)に連絡するように言われていますが、つながらないことが多いです。",
        ["name", "phone"],
        ["佐藤課長", "090-1234-5678"],
    ),
    ("研修の案内は taro@example.lg.jp にも送ってください。", ["email"], ["taro@example.lg.jp"]),
    ("職員番号 A12345 の者です。生成AIの利用申請が通らないので確認してほしいです。", ["staff_number"], ["A12345"]),
    ("窓口の電話(03-1234-5678)が一日中鳴っています。電子申請をもっと広めてほしいです。", ["phone"], ["03-1234-5678"]),
    ("鈴木係長と田中さんが中心になって、課の業務改善を進めてくれています。", ["name"], ["鈴木係長", "田中さん"]),
    (
        "高橋さん(hanako.takahashi@example.lg.jp)がRPAの相談に乗ってくれて助かっています。",
        ["name", "email"],
        ["高橋さん", "hanako.takahashi@example.lg.jp"],
    ),
]

# --------------------------------------------------------------------------- training
TRAINING_KEY, TRAINING_GROUP = "回答キー", "区分"
PARTICIPANT, NON_PARTICIPANT = "受講者", "非受講者"
#: (id, header, kind, construct(s) its baseline follows, latent gain for participants)
TRAINING_LIKERT = [
    ("attitude", "デジタル化に前向きだ", ("mind",), 0.55),
    ("know_data", "業務データの集計や見える化の方法が分かる", ("data",), 1.10),
    ("know_tech", "クラウドや生成AIなどの技術の特徴を説明できる", ("tech",), 1.10),
    ("confidence", "新しいデジタルツールを自分で試してみる自信がある", ("tech", "use"), 0.95),
]
CONCRETE_IDEA = ("concrete_idea", "業務の具体的な改善をイメージできる")
SATISFACTION = ("satisfaction", "研修の満足度")
TRAINING_COMMENT = ("training_comment", "研修の感想")
TRAINING_RETENTION = 0.70
CONCRETE_PRE, CONCRETE_POST = 0.05, 0.30
SATISFACTION_SHARES = {5: 0.55, 4: 0.38, 3: 0.05, 2: 0.02, 1: 0.0}
TRAINING_NOISE_SD = 0.45
TRAINING_COMMENTS = [
    "実際に手を動かせたので分かりやすかったです。",
    "自分の業務でも試してみたいと思いました。",
    "時間が短く感じました。もう少し演習がほしいです。",
    "講師の説明が丁寧で、質問しやすかったです。",
    "生成AIの使い方と注意点が具体的に分かりました。",
    "職場に戻って同僚にも共有したいです。",
    "内容が少し難しかったですが、資料を見返して復習します。",
    "資料を後から見返せるようにしてほしいです。",
    "他の課の人と話せたのがよかったです。",
]


# --------------------------------------------------------------------------- result type
@dataclass
class SampleData:
    """Every file of a sample municipality, in memory, plus the planted truth.

    Attributes
    ----------
    municipality, codebook : dict
        Contents of ``municipality.yaml`` and ``codebook.yaml``.
    roster, survey : pandas.DataFrame
        ``roster.csv`` and ``survey.csv`` exactly as written (text cells).
    hypotheses, opportunities : list of dict
        ``hypotheses.yaml`` and ``opportunities.yaml``.
    assessment, measures : pandas.DataFrame
        ``assessment.csv`` and ``measures.csv``.
    training_pre, training_post, training_followup : pandas.DataFrame
        The three training waves as written.
    planted_segments : pandas.DataFrame
        ``truth/planted_segments.csv``: respondent ID, segment number and name.
    truth : dict
        ``truth/truth.yaml``: planted verdicts, effects and problems.
    opportunities_text : str
        The package default ``opportunities.yaml`` verbatim (copied byte for byte).
    """

    municipality: dict
    codebook: dict
    roster: pd.DataFrame
    survey: pd.DataFrame
    hypotheses: list[dict]
    opportunities: list[dict]
    assessment: pd.DataFrame
    measures: pd.DataFrame
    training_pre: pd.DataFrame
    training_post: pd.DataFrame
    training_followup: pd.DataFrame
    planted_segments: pd.DataFrame
    truth: dict
    opportunities_text: str = field(default="", repr=False)
    #: the earlier wave (FY2024, folder ``2024/``): ``codebook`` (dict), ``survey``, ``roster``
    previous: dict = field(default_factory=dict, repr=False)
    #: ``actuals.csv`` (KPI actuals that do not come from the survey)
    actuals: pd.DataFrame | None = field(default=None, repr=False)


# --------------------------------------------------------------------------- helpers
def _apportion(total: int, weights) -> np.ndarray:
    """Split an integer total in proportion to weights (largest remainder, deterministic).

    Parameters
    ----------
    total : int
        Non-negative integer to split.
    weights : array-like of float
        Non-negative weights; at least one positive.

    Returns
    -------
    numpy.ndarray of int
        Parts summing exactly to ``total``; ties go to the earlier position.
    """
    w = np.asarray(weights, dtype=float)
    if total <= 0 or w.sum() <= 0:
        return np.zeros(len(w), dtype=int)
    exact = total * w / w.sum()
    base = np.floor(exact).astype(int)
    rest = total - base.sum()
    order = np.argsort(-(exact - base), kind="stable")
    base[order[:rest]] += 1
    return base


def _streams(seed: int, names: list[str]) -> dict[str, np.random.Generator]:
    """Independent named random streams, so changing one part leaves the others unchanged."""
    children = np.random.SeedSequence(seed).spawn(len(names))
    return {name: np.random.default_rng(child) for name, child in zip(names, children)}


def _weighted_sample_by_group(group: np.ndarray, weight: np.ndarray, k: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Indices of a weighted sample without replacement, ``k[g]`` units from each group ``g``.

    Uses exponential keys (Efraimidis–Spirakis): the ``k`` units with the smallest
    ``Exp(1) / weight`` form a sample drawn with probability proportional to weight.
    """
    key = rng.exponential(size=len(group)) / weight
    order = np.lexsort((key, group))
    g_sorted = group[order]
    starts = np.searchsorted(g_sorted, g_sorted, side="left")
    rank = np.arange(len(order)) - starts
    chosen = order[rank < k[g_sorted]]
    return np.sort(chosen)


def _r(x: float, nd: int = 4) -> float:
    """Round for the truth file (plain float, stable YAML)."""
    return float(round(float(x), nd))


# --------------------------------------------------------------------------- settings files
def build_municipality(municipality_id: str, name: str) -> dict:
    """Contents of ``municipality.yaml``.

    Parameters
    ----------
    municipality_id : str
        Folder / report id, ``[a-z0-9_-]+``.
    name : str
        Display name, e.g. サンプル市.
    """
    if not re.fullmatch(r"[a-z0-9_\-]+", municipality_id):
        raise ValueError(f"municipality_id must match [a-z0-9_-]+, got {municipality_id!r}")
    return {
        "id": municipality_id,
        "name": name,
        "fiscal_year": FISCAL_YEAR,
        "data_date": DATA_DATE,
        "min_group_size": 5,
        "comment_min_group_size": 10,
        "language": "ja",
        "inputs": {
            "survey": "survey.csv",
            "codebook": "codebook.yaml",
            "roster": "roster.csv",
            "hypotheses": "hypotheses.yaml",
            "opportunities": "opportunities.yaml",
            "assessment": "assessment.csv",
            "measures": "measures.csv",
            "training_pre": "training_pre.csv",
            "training_post": "training_post.csv",
            "training_followup": "training_followup.csv",
            "actuals": "actuals.csv",
        },
        "waves": [{
            "fiscal_year": PREVIOUS_FISCAL_YEAR,
            "survey": f"{PREVIOUS_FISCAL_YEAR}/survey.csv",
            "codebook": f"{PREVIOUS_FISCAL_YEAR}/codebook.yaml",
            "roster": f"{PREVIOUS_FISCAL_YEAR}/roster.csv",
            "renames": {"department": {old: new for old, new in PREVIOUS_RENAMES.items()}},
        }],
    }


def build_codebook() -> dict:
    """Contents of ``codebook.yaml`` (survey and training maps, scales, constructs)."""
    training_items = [
        {"id": tid, "header": header, "scale": "agree5", "kind": "likert"} for tid, header, _, _ in TRAINING_LIKERT
    ]
    training_items.append({"id": CONCRETE_IDEA[0], "header": CONCRETE_IDEA[1], "kind": "yesno"})
    training_items.append({"id": SATISFACTION[0], "header": SATISFACTION[1], "scale": "sat5", "kind": "likert", "waves": ["post"]})
    training_items.append({"id": TRAINING_COMMENT[0], "header": TRAINING_COMMENT[1], "kind": "text", "waves": ["post"]})
    return {
        "respondent_id": "ID",
        "ignore": ["開始時刻", "完了時刻", "メール", "名前"],
        "attributes": {
            "department": {"header": "所属部署", "label": "所属部署", "values": [d[0] for d in DEPARTMENTS]},
            "grade": {"header": "職層", "label": "職層", "values": list(GRADES)},
            "age_band": {"header": "年代", "label": "年代", "values": list(AGE_BANDS)},
            "employment": {"header": "雇用形態", "label": "雇用形態", "values": list(EMPLOYMENTS)},
        },
        "scales": {
            "agree5": {"min": 1, "max": 5, "labels": dict(AGREE5), "missing": [DONT_KNOW, "無回答"]},
            "sat5": {"min": 1, "max": 5, "labels": dict(SAT5), "missing": ["無回答"]},
        },
        "constructs": {cid: dict(c) for cid, c in CONSTRUCTS.items()},
        "items": [
            {"id": iid, "header": header, "construct": iid.split("_")[0], "scale": "agree5", "reverse": rev, "short": short}
            for iid, header, short, rev, _ in ITEMS
        ],
        "tools": {
            "yes": [TOOL_YES, YES],
            "no": [TOOL_NO, NO],
            "items": [{"id": tid, "header": header, "label": label} for tid, header, label in TOOLS],
        },
        "free_text": [{"id": "comment", "header": COMMENT_HEADER, "label": "自由意見"}],
        "training": {
            "key": TRAINING_KEY,
            "group": TRAINING_GROUP,
            "participant": [PARTICIPANT],
            "non_participant": [NON_PARTICIPANT],
            "yes": [YES],
            "no": [NO],
            "items": training_items,
        },
    }


def build_hypotheses() -> list[dict]:
    """The advisor's 5 prior hypotheses (``hypotheses.yaml``); verdicts are in the truth."""
    return [
        {"id": "H1", "statement": "若い職員ほどデジタル化に前向きである", "measure": "mind", "attribute": "age_band",
         "group": ["20代以下", "30代"], "versus": ["50代以上"], "expected": "higher"},
        {"id": "H2", "statement": "若い職員ほどデジタル技術に詳しい", "measure": "tech", "attribute": "age_band",
         "group": ["20代以下", "30代"], "versus": ["50代以上"], "expected": "higher"},
        {"id": "H3", "statement": "福祉部はビジネスチャットの利用が少ない", "measure": "tool_chat", "attribute": "department",
         "group": ["福祉部"], "expected": "lower"},
        {"id": "H4", "statement": "課長級以上はDXの必要性を理解している", "measure": "why", "attribute": "grade",
         "group": ["課長級以上"], "expected": "higher"},
        {"id": "H5", "statement": "会計年度任用職員はセキュリティ意識が低い", "measure": "caution", "attribute": "employment",
         "group": ["会計年度任用職員"], "expected": "lower"},
    ]


PLANTED_VERDICTS = {"H1": "反証", "H2": "支持", "H3": "判定不能", "H4": "支持", "H5": "判定不能"}
PLANTED_MECHANISM = {
    "H1": f"50代以上は mind に +{MIND_OLDER_EFFECT:.2f} の直接効果があり、セグメント2(意欲はあるがスキルに不安)が多い。"
          "若年層は懐疑的(セグメント3)が多い。",
    "H2": "若年層は推進リーダー層・懐疑的(スキルは中程度以上)が多く、50代以上はセグメント2(スキルが低い)が多い"
          f"(構成の効果)。直接効果は 50代以上 {TECH_AGE_EFFECT[3]:+.2f} のみ。",
    "H3": f"ビジネスチャットは全庁導入済み: 利用確率は全員 {TOOL_CHAT_RATE:.2f} で、部署・セグメントに依存しない(効果はちょうど 0)。",
    "H4": f"課長級以上は why に +{WHY_MANAGER_EFFECT:.2f} の直接効果があり、40代・50代以上(セグメント2が多い)に偏っている。",
    "H5": f"雇用形態は部署・年代と独立(どのセルも会計年度任用職員 {FIXED_TERM_SHARE:.0%})で、回答率・セグメント・caution "
          "のどれも雇用形態に依存しない(効果はちょうど 0)。",
}


def load_default_opportunities() -> tuple[str, list[dict]]:
    """The package default ``resources/opportunities.yaml``: raw text and parsed list."""
    text = importlib.resources.files("dxanalysis").joinpath("resources", "opportunities.yaml").read_text(encoding="utf-8")
    return text, yaml.safe_load(text)


def build_assessment() -> pd.DataFrame:
    """Gap assessment (``assessment.csv``): 15 items on the MIC steps and DX推進指標 areas.

    Current levels average 1.69 and targets 3.4 (national benchmark: 1.67 and 3.34). Two
    literacy items take their current level from the survey (``survey_construct``).
    """
    rows = [
        ("A01", "共通理解・機運醸成", "首長・幹部によるDXの方針発信", 2, 4, 4, 4, "企画政策課", "市長年頭あいさつ・庁議でDXに言及(2025年度)"),
        ("A02", "共通理解・機運醸成", "職員のDXへの理解と機運", 1, 3, 5, 3, "DX推進課", "現状把握ワークショップ(2025年9月)での意見"),
        ("A03", "全体方針", "DX推進計画(全体方針)の策定と進捗管理", 2, 4, 5, 3, "DX推進課", "DX推進計画(2024年3月策定)、進捗管理は未実施"),
        ("A04", "全体方針", "人材育成・確保基本方針の策定と見直し", 1, 3, 4, 4, "人事課", "方針は未策定。2026年度に策定予定"),
        ("A05", "推進体制", "DX推進本部・CIO補佐官の設置", 3, 4, 3, 4, "DX推進課", "DX推進本部設置要綱(2023年)"),
        ("A06", "推進体制", "各課のDX推進リーダーの配置", 1, 3, 5, 3, "DX推進課", "一部の課で自主的な担当者のみ"),
        ("A07", "推進体制", "外部デジタル人材の活用", 2, 3, 3, 4, "DX推進課", "DXアドバイザー委嘱(2025年度)"),
        ("A08", "デジタル人材育成", "階層別・目的別のDX研修の実施", 1, 3, 5, 4, "人事課", "新規採用職員向けの情報研修のみ"),
        ("A09", "デジタル人材育成", "職員のデータ活用スキル", None, 3, 4, 3, "人事課", "職員アンケート(データ活用)", "data"),
        ("A10", "デジタル人材育成", "職員の情報セキュリティ・生成AIの留意点の理解", None, 4, 5, 4, "情報政策課", "職員アンケート(セキュリティ・留意点)", "caution"),
        ("A11", "業務改革", "業務プロセスの可視化と見直し(BPR)", 1, 3, 4, 2, "行政改革課", "窓口業務の一部で業務量調査を実施"),
        ("A12", "業務改革", "行政手続のオンライン化", 2, 4, 4, 3, "DX推進課", "オンライン申請可能な手続 48件(2025年9月)"),
        ("A13", "業務改革", "庁内データの利活用(EBPM)", 1, 3, 3, 2, "企画政策課", "統計書の作成のみ。政策立案での活用例は少ない"),
        ("A14", "デジタル基盤", "基幹業務システムの標準化・共通化", 3, 4, 4, 2, "情報政策課", "標準準拠システムへの移行計画(2025年度)"),
        ("A15", "デジタル基盤", "ビジネスチャット・Web会議・テレワーク環境の整備", 2, 3, 3, 4, "情報政策課", "ビジネスチャット全庁導入(2024年度)"),
    ]
    cols = ["item_id", "domain", "item", "current", "target", "importance", "feasibility", "owner", "evidence", "survey_construct"]
    df = pd.DataFrame([r if len(r) == 10 else (*r, None) for r in rows], columns=cols)
    for col in ["current", "target", "importance", "feasibility"]:
        df[col] = df[col].astype("Int64")
    return df


PLANTED_DEPENDENCY_VIOLATION = "M06"

# --------------------------------------------------------------------------- earlier wave (FY2024)
PREVIOUS_FISCAL_YEAR = 2024
#: respondents of the earlier wave, as a share of this year's
PREVIOUS_RESPONDENT_SHARE = 0.9
#: 組織改編: that year's department name → this year's
PREVIOUS_RENAMES = {"子育て支援部": "こども未来部"}
#: planted change FY2024 → FY2025 on the latent scale, by segment (rows 1..4) and construct:
#: the trained segment 2 (意欲はあるがスキルに不安) gains on data and tech; nothing else moves
WAVE_GAIN = np.zeros((4, 6))
WAVE_GAIN[1, CONSTRUCT_IDS.index("data")] = 1.0
WAVE_GAIN[1, CONSTRUCT_IDS.index("tech")] = 1.0
#: item asked only this year (added in FY2025), tool asked only in FY2024 (dropped)
ADDED_ITEM = "caution_05"
DROPPED_TOOL = ("tool_fax", "業務でFAXを使っていますか", "FAX", 0.6)
#: an item whose question wording changed (same id, different header)
REWORDED_ITEM = ("data_01", "業務のデータ(件数・時間など)を集計して、傾向を読み取ることができる")
#: KPI actuals that do not come from the survey (actuals.csv)
ACTUALS = [("M03", 2024, 2), ("M03", 2025, 4), ("M08", 2024, 0), ("M08", 2025, 1)]
#: simulated staff behind the population truth of the change (split over the roster cells in
#: proportion to their staff; fixed, so the truth and its cost do not grow with n_respondents)
TRUTH_POPULATION = 70_000


def build_measures() -> pd.DataFrame:
    """Measures and KPIs (``measures.csv``), FY2026–FY2028, with one planted violation.

    M06 (starts 2026) depends on M07, which only starts in 2027.
    """
    rows = [
        ("M01", "DXリテラシー基礎研修(ハンズオン)", "A08;A09", "2", 2026, 2028, "",
         "受講者のうち業務の具体的な改善をイメージできた割合(%)", 30, 40, 50),
        ("M02", "なぜDXかを考える対話型セッション", "A02", "3;4", 2026, 2027, "",
         "参加者のうちDXを自分ごとと感じる割合(%)", 50, 65, None),
        ("M03", "DX推進リーダー育成トラック", "A06", "1", 2026, 2028, "",
         "DX推進リーダーを配置した課の数", 10, 20, 30),
        ("M04", "セキュリティ・生成AI留意点研修(全職員)", "A10", "1;2;3;4", 2026, 2028, "",
         "確認テストの合格率(%)", 80, 90, 95),
        ("M05", "業務プロセス可視化(BPR)の横展開", "A11", "1", 2027, 2028, "M03",
         "可視化・見直しをした業務の数", None, 10, 25),
        ("M06", "データ活用ワークショップ", "A09;A13", "1;2", 2026, 2028, "M07",
         "ワークショップ後に業務データを定期集計している課の数", 5, 12, 20),
        ("M07", "庁内データ活用基盤(ダッシュボード)の整備", "A13;A15", "", 2027, 2028, "",
         "ダッシュボードで公開する業務データの数", None, 10, 20),
        ("M08", "人材育成・確保基本方針の策定と毎年の見直し", "A04;A08", "", 2026, 2028, "",
         "方針の見直し(年1回)の実施", 1, 1, 1),
        ("M09", "データ・デジタル技術の基礎研修(スキルに不安のある層)", "A09", "2", 2026, 2028, "",
         "データ活用の平均点(職員アンケート、全職員の推定、1〜5)", 3.0, 3.2, 3.4),
    ]
    cols = ["measure_id", "measure", "items", "segments", "start_fy", "end_fy", "depends_on", "kpi",
            "target_2026", "target_2027", "target_2028"]
    df = pd.DataFrame(rows, columns=cols)
    # survey-based KPI (notebook 06 takes its actual value from the survey): construct/item/tool id
    df.insert(cols.index("kpi") + 1, "kpi_survey", ["" if mid != "M09" else "data" for mid in df["measure_id"]])
    for col in ["start_fy", "end_fy"]:
        df[col] = df[col].astype("Int64")
    for col in ["target_2026", "target_2027", "target_2028"]:  # whole numbers print without ".0"
        df[col] = [("" if pd.isna(v) else f"{v:g}") for v in df[col]]
    return df


# --------------------------------------------------------------------------- roster and respondents
def build_roster(n_respondents: int) -> pd.DataFrame:
    """Staff counts per department × grade × age × employment cell (``roster.csv``).

    About 2.8 staff per respondent (1,400 at n=500), split deterministically (largest
    remainder) so the roster depends only on ``n_respondents``. Empty cells are omitted.
    """
    total = int(round(STAFF_PER_RESPONDENT * n_respondents))
    dept_staff = _apportion(total, [d[1] for d in DEPARTMENTS])
    rows = []
    for d, (dept, _, _, age_dist) in enumerate(DEPARTMENTS):
        for a, n_da in enumerate(_apportion(int(dept_staff[d]), age_dist)):
            n_regular, n_fixed = _apportion(int(n_da), [1 - FIXED_TERM_SHARE, FIXED_TERM_SHARE])
            by_grade = _apportion(int(n_regular), GRADE_BY_AGE[a])
            for g, count in enumerate(by_grade):
                rows.append((dept, GRADES[g], AGE_BANDS[a], EMPLOYMENTS[0], int(count)))
            rows.append((dept, GRADES[0], AGE_BANDS[a], EMPLOYMENTS[1], int(n_fixed)))
    df = pd.DataFrame(rows, columns=["所属部署", "職層", "年代", "雇用形態", "職員数"])
    df = df[df["職員数"] > 0]
    order = {
        "所属部署": {d[0]: i for i, d in enumerate(DEPARTMENTS)},
        "職層": {g: i for i, g in enumerate(GRADES)},
        "年代": {a: i for i, a in enumerate(AGE_BANDS)},
        "雇用形態": {e: i for i, e in enumerate(EMPLOYMENTS)},
    }
    df = df.sort_values(["所属部署", "職層", "年代", "雇用形態"], key=lambda s: s.map(order[s.name]), kind="stable")
    return df.reset_index(drop=True)


def _roster_codes(roster: pd.DataFrame) -> dict[str, np.ndarray]:
    """Attribute codes (indices into the value lists) of each roster cell."""
    return {
        "department": roster["所属部署"].map({d[0]: i for i, d in enumerate(DEPARTMENTS)}).to_numpy(int),
        "grade": roster["職層"].map({g: i for i, g in enumerate(GRADES)}).to_numpy(int),
        "age_band": roster["年代"].map({a: i for i, a in enumerate(AGE_BANDS)}).to_numpy(int),
        "employment": roster["雇用形態"].map({e: i for i, e in enumerate(EMPLOYMENTS)}).to_numpy(int),
    }


def sample_respondents(roster: pd.DataFrame, n_respondents: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Draw the respondents from the staff in the roster.

    Each department answers ``n × staff_d × rate_d / Σ`` times (largest remainder), so the
    response rates by department are planted exactly; within a department, staff are
    drawn without replacement with probability proportional to the age propensity
    :data:`AGE_RESPONSE`. Employment does not enter, so it stays independent of
    department and age among respondents too.

    Returns
    -------
    dict of numpy.ndarray
        Attribute codes ``department``, ``grade``, ``age_band``, ``employment`` (one entry
        per respondent, in staff order).
    """
    cells = _roster_codes(roster)
    counts = roster["職員数"].to_numpy(int)
    staff = {k: np.repeat(v, counts) for k, v in cells.items()}
    dept_staff = np.bincount(staff["department"], minlength=len(DEPARTMENTS))
    rates = np.array([d[2] for d in DEPARTMENTS])
    k = _apportion(n_respondents, dept_staff * rates)
    if np.any(k > dept_staff):
        raise ValueError("n_respondents too large for the roster")
    weight = AGE_RESPONSE[staff["age_band"]]
    chosen = _weighted_sample_by_group(staff["department"], weight, k, rng)
    return {key: val[chosen] for key, val in staff.items()}


def assign_segments(resp: dict[str, np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """Latent segment (1..4) of each respondent, with prevalence tilted by department and age."""
    dept_tilt = np.ones((len(DEPARTMENTS), 4))
    for d, (dept, *_rest) in enumerate(DEPARTMENTS):
        if dept in SEGMENT_DEPT_TILT:
            dept_tilt[d] = SEGMENT_DEPT_TILT[dept]
    p = SEGMENT_BASE * dept_tilt[resp["department"]] * SEGMENT_AGE_TILT[resp["age_band"]]
    cum = np.cumsum(p / p.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(len(p))
    return (u[:, None] > cum[:, :-1]).sum(axis=1) + 1


def latent_constructs(resp: dict[str, np.ndarray], segment: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Latent construct levels (n × 6, columns in :data:`CONSTRUCT_IDS` order).

    Segment centroid + direct attribute effects + person-level normal noise.
    ``caution`` has no direct effect; nothing depends on employment.
    """
    n = len(segment)
    latent = SEGMENT_CENTROIDS[segment - 1] + rng.normal(0.0, PERSON_SD, size=(n, len(CONSTRUCT_IDS)))
    latent[:, CONSTRUCT_IDS.index("mind")] += MIND_OLDER_EFFECT * (resp["age_band"] == 3)
    latent[:, CONSTRUCT_IDS.index("tech")] += TECH_AGE_EFFECT[resp["age_band"]]
    latent[:, CONSTRUCT_IDS.index("why")] += WHY_MANAGER_EFFECT * (resp["grade"] == 3)
    return latent


def likert_answers(latent: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Item answers as numbers (as the person would mark them, reverse items reversed).

    Returns
    -------
    values : numpy.ndarray of int, shape (n, 30)
        1..5, reverse-coded items already flipped (``6 − x``), as stored in the export.
    missing : numpy.ndarray of int, shape (n, 30)
        0 = answered, 1 = わからない, 2 = empty.
    """
    n = len(latent)
    cidx = np.array([CONSTRUCT_IDS.index(i[0].split("_")[0]) for i in ITEMS])
    offset = np.array([i[4] for i in ITEMS])
    reverse = np.array([i[3] for i in ITEMS])
    raw = latent[:, cidx] + offset + rng.normal(0.0, ITEM_SD, size=(n, len(ITEMS)))
    values = np.clip(np.rint(raw), 1, 5).astype(int)
    values = np.where(reverse, 6 - values, values)
    u = rng.random((n, len(ITEMS)))
    missing = np.where(u < DONT_KNOW_RATE, 1, np.where(u < DONT_KNOW_RATE + EMPTY_RATE, 2, 0))
    return values, missing


def tool_answers(resp: dict[str, np.ndarray], segment: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Tool use (n × 5): 1 = 使っている, 0 = 使っていない, -1 = empty."""
    n = len(segment)
    p = np.empty((n, len(TOOLS)))
    p[:, 0] = TOOL_CHAT_RATE
    for j, (tid, _, _) in enumerate(TOOLS[1:4], start=1):
        p[:, j] = np.asarray(TOOL_SEGMENT_RATE[tid])[segment - 1]
    genai = [t[0] for t in TOOLS].index("tool_genai")
    p[:, genai] = np.clip(p[:, genai] + np.array([0.08, 0.04, 0.0, -0.05])[resp["age_band"]], 0.01, 0.99)
    dept_rate = np.array([EAPP_DEPT_RATE.get(d[0], EAPP_OTHER_RATE) for d in DEPARTMENTS])
    p[:, 4] = np.clip(dept_rate[resp["department"]] * np.asarray(EAPP_SEGMENT_FACTOR)[segment - 1], 0.0, 0.95)
    used = (rng.random((n, len(TOOLS))) < p).astype(int)
    return np.where(rng.random((n, len(TOOLS))) < TOOL_EMPTY_RATE, -1, used)


def _comment_pool(segment: int) -> np.ndarray:
    """All comment variants for one segment (templates × tool names × prefixes)."""
    out = []
    for t in _COMMENT_TEMPLATES[segment] + _COMMENT_TEMPLATES["all"]:
        fills = [t.format(tool=x) for x in _TOOL_FILLS] if "{tool}" in t else [t]
        prefixes = [""] if segment == 4 else _PREFIXES
        out += [p + f for f in fills for p in prefixes]
    return np.array(out, dtype=object)


def free_text(segment: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, list[dict]]:
    """Free-text comments (about 40% answer), varying with the segment.

    A few commenters get one of :data:`PERSONAL_COMMENTS` (invented personal data).

    Returns
    -------
    comments : numpy.ndarray of object
        Comment text or ``""`` (no answer).
    personal : list of dict
        ``{"index", "kinds", "values"}`` for each planted personal-data comment
        (``index`` = position in ``segment``).
    """
    n = len(segment)
    comments = np.full(n, "", dtype=object)
    writes = rng.random(n) < COMMENT_RATE_BY_SEGMENT[segment - 1]
    for s in range(1, 5):
        idx = np.flatnonzero(writes & (segment == s))
        pool = _comment_pool(s)
        comments[idx] = pool[rng.integers(0, len(pool), size=len(idx))]
    writers = np.flatnonzero(writes)
    chosen = np.sort(rng.choice(writers, size=min(len(PERSONAL_COMMENTS), len(writers)), replace=False))
    personal = []
    for idx, (text, kinds, values) in zip(chosen, PERSONAL_COMMENTS):
        comments[idx] = text
        personal.append({"index": int(idx), "kinds": list(kinds), "values": list(values)})
    return comments, personal


def response_times(n: int, rng: np.random.Generator) -> tuple[pd.Series, pd.Series]:
    """Forms start / completion timestamps on weekdays of the survey period (08:30–18:00)."""
    days = pd.bdate_range(SURVEY_START, SURVEY_END)
    day = days[rng.integers(0, len(days), size=n)]
    start = pd.DatetimeIndex(day) + pd.to_timedelta(rng.integers(8 * 3600 + 1800, 18 * 3600, size=n), unit="s")
    duration = pd.to_timedelta(np.clip(rng.lognormal(np.log(420), 0.45, size=n), 120, 3600).astype(int), unit="s")
    return pd.Series(start), pd.Series(start + duration)


# --------------------------------------------------------------------------- survey table
def _label_matrix(values: np.ndarray, missing: np.ndarray) -> np.ndarray:
    """Likert numbers → Forms label text, with わからない / empty cells."""
    labels = np.array([""] + [AGREE5[k] for k in range(1, 6)], dtype=object)
    out = labels[values]
    out[missing == 1] = DONT_KNOW
    out[missing == 2] = ""
    return out


def build_survey(resp: dict[str, np.ndarray], values, missing, tools, comments, start, end) -> pd.DataFrame:
    """The survey export as Microsoft Forms writes it (label text; empty メール / 名前)."""
    n = len(comments)
    cols: dict[str, object] = {
        "ID": np.arange(1, n + 1),
        "開始時刻": start.dt.strftime("%Y/%m/%d %H:%M:%S").to_numpy(),
        "完了時刻": end.dt.strftime("%Y/%m/%d %H:%M:%S").to_numpy(),
        "メール": np.full(n, "", dtype=object),
        "名前": np.full(n, "", dtype=object),
        "所属部署": np.array([d[0] for d in DEPARTMENTS], dtype=object)[resp["department"]],
        "職層": np.array(GRADES, dtype=object)[resp["grade"]],
        "年代": np.array(AGE_BANDS, dtype=object)[resp["age_band"]],
        "雇用形態": np.array(EMPLOYMENTS, dtype=object)[resp["employment"]],
    }
    labels = _label_matrix(values, missing)
    for j, item in enumerate(ITEMS):
        cols[item[1]] = labels[:, j]
    tool_labels = np.array([TOOL_NO, TOOL_YES, ""], dtype=object)  # index -1 → ""
    for j, tool in enumerate(TOOLS):
        cols[tool[1]] = tool_labels[tools[:, j]]
    cols[COMMENT_HEADER] = comments
    return pd.DataFrame(cols)


def construct_means(values: np.ndarray, missing: np.ndarray) -> np.ndarray:
    """Respondent × construct means (reverse items flipped back, missing ignored)."""
    reverse = np.array([i[3] for i in ITEMS])
    scored = np.where(reverse, 6 - values, values).astype(float)
    scored[missing > 0] = np.nan
    cidx = np.array([CONSTRUCT_IDS.index(i[0].split("_")[0]) for i in ITEMS])
    out = np.empty((len(values), len(CONSTRUCT_IDS)))
    for c in range(len(CONSTRUCT_IDS)):
        out[:, c] = np.nanmean(scored[:, cidx == c], axis=1)
    return out


# --------------------------------------------------------------------------- training waves
def _pick(rng: np.random.Generator, pool: np.ndarray, k: int) -> np.ndarray:
    """``k`` distinct elements of ``pool`` (fewer if the pool is small), sorted."""
    return np.sort(rng.choice(pool, size=min(k, len(pool)), replace=False))


def _likert_wave(base: np.ndarray, shift: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Observed 1..5 answers of one wave: round(base + shift + noise), clipped."""
    return np.clip(np.rint(base + shift + rng.normal(0.0, TRAINING_NOISE_SD, size=base.shape)), 1, 5).astype(int)


def build_training(ids: np.ndarray, segment: np.ndarray, latent: np.ndarray, n_respondents: int,
                   rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict]:
    """Training waves (pre, post, follow-up) and their planted truth.

    About 45 participants (30 from segment 2, 15 from the others) and 80 non-participants
    at n=500 (scaled down for smaller samples, never up). Participants gain on the latent
    scale (:data:`TRAINING_LIKERT`), keep :data:`TRAINING_RETENTION` of it at follow-up;
    non-participants do not change. Planted matching problems: one post key duplicated,
    two post keys without pre, one pre key without post.
    """
    f = min(1.0, n_respondents / 500)
    seg2 = np.flatnonzero(segment == 2)
    other = np.flatnonzero(segment != 2)
    part_a = _pick(rng, seg2, max(4, int(round(30 * f))))
    part_b = _pick(rng, other, max(3, int(round(15 * f))))
    part = np.sort(np.concatenate([part_a, part_b]))
    rest = np.setdiff1d(np.arange(len(segment)), part)
    nonp = _pick(rng, rest, max(6, int(round(80 * f))))

    # matching problems among participants: 2 answered only post, 1 answered only pre
    odd = rng.permutation(part)[:3]
    post_only, pre_only = np.sort(odd[:2]), odd[2:3]
    part_pre = np.setdiff1d(part, post_only)
    part_post = np.setdiff1d(part, pre_only)
    matched = np.setdiff1d(part_post, post_only)  # answered both → follow-up
    dup_key_idx = int(rng.choice(matched))

    people = np.concatenate([part, nonp])
    is_part = np.isin(people, part)
    c = {cid: latent[people, CONSTRUCT_IDS.index(cid)] for cid in CONSTRUCT_IDS}
    # baseline: attitude is a compressed mind level; knowledge items sit a little below the constructs
    base = {tid: np.mean([c[x] for x in follows], axis=0) for tid, _, follows, _ in TRAINING_LIKERT}
    base = {tid: 0.6 * b + 1.0 if tid == "attitude" else b - 0.2 for tid, b in base.items()}
    gain = {tid: g * is_part for tid, _, _, g in TRAINING_LIKERT}
    waves = {w: {tid: _likert_wave(base[tid], gain[tid] * m, rng) for tid, _, _, _ in TRAINING_LIKERT}
             for w, m in [("pre", 0.0), ("post", 1.0), ("followup", TRAINING_RETENTION)]}

    # concrete idea: exact planted shares among participants, no net change for others
    pos = {p: i for i, p in enumerate(people)}
    n_p = len(part)
    idea = {w: np.zeros(len(people), dtype=int) for w in ("pre", "post", "followup")}
    order_p = rng.permutation(n_p)
    n_pre_yes = int(round(CONCRETE_PRE * n_p))
    n_post_yes = max(n_pre_yes, int(round(CONCRETE_POST * n_p)))
    idea["pre"][order_p[:n_pre_yes]] = 1
    idea["post"][order_p[:n_post_yes]] = 1
    kept = order_p[n_pre_yes:n_post_yes][: int(round(TRAINING_RETENTION * (n_post_yes - n_pre_yes)))]
    idea["followup"][order_p[:n_pre_yes]] = 1
    idea["followup"][kept] = 1
    n_np = len(nonp)
    order_n = n_p + rng.permutation(n_np)
    n_np_yes = max(1, int(round(CONCRETE_PRE * n_np)))
    idea["pre"][order_n[:n_np_yes]] = 1
    idea["post"][order_n[1:n_np_yes + 1]] = 1  # one yes→no and one no→yes: no net change

    # satisfaction (post, participants): exact shares, shuffled
    sat_counts = _apportion(n_p, list(SATISFACTION_SHARES.values()))
    sat = rng.permutation(np.repeat(list(SATISFACTION_SHARES.keys()), sat_counts))
    satisfaction = np.zeros(len(people), dtype=int)
    satisfaction[:n_p] = sat
    comment_pool = np.array(TRAINING_COMMENTS, dtype=object)
    t_comment = np.full(len(people), "", dtype=object)
    writes = (rng.random(len(people)) < 0.6) & is_part
    t_comment[writes] = comment_pool[rng.integers(0, len(comment_pool), size=int(writes.sum()))]

    def frame(wave: str, members: np.ndarray, with_post_items: bool) -> pd.DataFrame:
        rows = np.array([pos[m] for m in members], dtype=int)
        df = pd.DataFrame({
            TRAINING_KEY: ids[members].astype(str),
            TRAINING_GROUP: np.where(is_part[rows], PARTICIPANT, NON_PARTICIPANT),
        })
        for tid, header, _, _ in TRAINING_LIKERT:
            df[header] = np.array([""] + list(AGREE5.values()), dtype=object)[waves[wave][tid][rows]]
        df[CONCRETE_IDEA[1]] = np.where(idea[wave][rows] == 1, YES, NO)
        if with_post_items:
            sat_labels = np.array([""] + list(SAT5.values()), dtype=object)
            df[SATISFACTION[1]] = sat_labels[satisfaction[rows]]
            df[TRAINING_COMMENT[1]] = t_comment[rows]
        return df

    pre_members = rng.permutation(np.concatenate([part_pre, nonp]))
    post_members = rng.permutation(np.concatenate([part_post, nonp]))
    pre = frame("pre", pre_members, False)
    post = frame("post", post_members, True)
    # duplicate: the same person submitted the post survey twice (a later, slightly different row)
    dup = post[post[TRAINING_KEY] == str(ids[dup_key_idx])].copy()
    dup[TRAINING_COMMENT[1]] = "二回目の送信です。前回の回答を修正しました。"
    insert_at = int(rng.integers(len(post) // 2, len(post) + 1))
    post = pd.concat([post.iloc[:insert_at], dup, post.iloc[insert_at:]], ignore_index=True)
    followup = frame("followup", rng.permutation(matched), False)

    truth = _training_truth(pre, post, followup, ids, segment, part, nonp, post_only, pre_only, dup_key_idx, matched)
    return pre, post, followup, truth


def _training_truth(pre, post, followup, ids, segment, part, nonp, post_only, pre_only, dup_key_idx, matched) -> dict:
    """Design and realised training effects (participants matched pre/post, first post row)."""
    inv = {v: k for k, v in AGREE5.items()}
    post1 = post.drop_duplicates(TRAINING_KEY, keep="first")
    m = pre.merge(post1, on=[TRAINING_KEY, TRAINING_GROUP], suffixes=("_pre", "_post"))
    fu = m.merge(followup, on=[TRAINING_KEY, TRAINING_GROUP])
    realised = {}
    for grp_name, grp in [("participants", PARTICIPANT), ("non_participants", NON_PARTICIPANT)]:
        g = m[m[TRAINING_GROUP] == grp]
        r = {"n_matched": int(len(g))}
        for tid, header, _, _ in TRAINING_LIKERT:
            r[f"{tid}_mean_change"] = _r((g[header + "_post"].map(inv) - g[header + "_pre"].map(inv)).mean(), 3)
        h = CONCRETE_IDEA[1]
        r["concrete_idea_pre"] = _r((g[h + "_pre"] == YES).mean(), 3)
        r["concrete_idea_post"] = _r((g[h + "_post"] == YES).mean(), 3)
        realised[grp_name] = r
    g = fu
    retained = {}
    for tid, header, _, _ in TRAINING_LIKERT:
        pre_v, post_v, fu_v = (g[header + s].map(inv) for s in ("_pre", "_post", ""))
        retained[f"{tid}_followup_minus_pre"] = _r((fu_v - pre_v).mean(), 3)
    retained["concrete_idea_followup"] = _r((g[CONCRETE_IDEA[1]] == YES).mean(), 3)
    retained["n"] = int(len(g))
    sat = post1[post1[TRAINING_GROUP] == PARTICIPANT][SATISFACTION[1]]
    return {
        "participants": int(len(part)),
        "participants_from_segment_2": int((segment[part] == 2).sum()),
        "non_participants": int(len(nonp)),
        "design": {
            "latent_gain": {tid: g for tid, _, _, g in TRAINING_LIKERT},
            "non_participant_change": 0.0,
            "concrete_idea_pre": CONCRETE_PRE,
            "concrete_idea_post": CONCRETE_POST,
            "followup_retention": TRAINING_RETENTION,
            "satisfaction_shares": {int(k): v for k, v in SATISFACTION_SHARES.items()},
        },
        "realised": realised,
        "followup": retained,
        "satisfied_share": _r(sat.isin([SAT5[4], SAT5[5]]).mean(), 3),
        "matching_problems": {
            "duplicate_post_key": str(ids[dup_key_idx]),
            "post_keys_without_pre": [str(k) for k in ids[post_only]],
            "pre_keys_without_post": [str(k) for k in ids[pre_only]],
        },
        "followup_keys": int(len(matched)),
    }


# --------------------------------------------------------------------------- truth
def _hypothesis_truth(survey: pd.DataFrame, scores: np.ndarray, tools: np.ndarray) -> list[dict]:
    """Planted verdicts with the realised (unweighted) effects: Cohen's d, Mann–Whitney p, BH q."""
    from scipy.stats import mannwhitneyu

    attr_col = {"age_band": "年代", "department": "所属部署", "grade": "職層", "employment": "雇用形態"}
    out, pvals = [], []
    for h in build_hypotheses():
        col = survey[attr_col[h["attribute"]]].to_numpy()
        in_group = np.isin(col, h["group"])
        versus = np.isin(col, h["versus"]) if "versus" in h else ~in_group
        if h["measure"] in CONSTRUCT_IDS:
            y = scores[:, CONSTRUCT_IDS.index(h["measure"])]
        else:
            t = tools[:, [t[0] for t in TOOLS].index(h["measure"])].astype(float)
            y = np.where(t < 0, np.nan, t)
        a, b = y[in_group & ~np.isnan(y)], y[versus & ~np.isnan(y)]
        sd = np.sqrt(((len(a) - 1) * a.var(ddof=1) + (len(b) - 1) * b.var(ddof=1)) / (len(a) + len(b) - 2))
        p = float(mannwhitneyu(a, b, alternative="two-sided").pvalue)
        pvals.append(p)
        out.append({
            "id": h["id"], "verdict": PLANTED_VERDICTS[h["id"]], "mechanism": PLANTED_MECHANISM[h["id"]],
            "n_group": int(len(a)), "n_versus": int(len(b)),
            "mean_group": _r(a.mean()), "mean_versus": _r(b.mean()),
            "cohens_d": _r((a.mean() - b.mean()) / sd, 3), "p_mann_whitney": float(f"{p:.3g}"),
        })
    for h, q in zip(out, bh_adjust(np.array(pvals))):
        h["q_bh"] = float(f"{q:.3g}")
    return out


def _weighting_truth(resp: dict[str, np.ndarray], scores: np.ndarray, roster: pd.DataFrame) -> dict:
    """Unweighted vs post-stratified (department × age) construct means."""
    cells = _roster_codes(roster)
    n_cells = len(DEPARTMENTS) * len(AGE_BANDS)
    pop = np.bincount(cells["department"] * 4 + cells["age_band"], weights=roster["職員数"].to_numpy(float), minlength=n_cells)
    cell = resp["department"] * 4 + resp["age_band"]
    n_cell = np.bincount(cell, minlength=n_cells)
    w = pop[cell] / n_cell[cell]
    out = {"unweighted": {}, "weighted_department_x_age": {}}
    for c, cid in enumerate(CONSTRUCT_IDS):
        y = scores[:, c]
        ok = ~np.isnan(y)
        out["unweighted"][cid] = _r(y[ok].mean(), 3)
        out["weighted_department_x_age"][cid] = _r(np.average(y[ok], weights=w[ok]), 3)
    return out


def build_truth(*, seed, n_respondents, roster, resp, survey, segment, scores, tools, personal, training_truth) -> dict:
    """The planted truth (``truth/truth.yaml``)."""
    dept_names = [d[0] for d in DEPARTMENTS]
    dept_staff = roster.groupby("所属部署", sort=False)["職員数"].sum()
    dept_resp = survey["所属部署"].value_counts()
    rates = {d: _r(dept_resp.get(d, 0) / dept_staff.get(d, 1), 3) for d in dept_names}
    age_staff = roster.groupby("年代", sort=False)["職員数"].sum()
    age_resp = survey["年代"].value_counts()
    sizes = np.bincount(segment, minlength=5)[1:]
    comment_rows = []
    for p in personal:
        comment_rows.append({"row": p["index"] + 2, "respondent_id": str(survey["ID"].iloc[p["index"]]),
                             "kinds": p["kinds"], "values": p["values"]})
    return {
        "generator": "dxanalysis.sample",
        "seed": int(seed),
        "n_respondents": int(n_respondents),
        "n_staff": int(roster["職員数"].sum()),
        "response_rate_by_department": rates,
        "response_rate_by_age_band": {a: _r(age_resp.get(a, 0) / age_staff.get(a, 1), 3) for a in AGE_BANDS},
        "small_department": {"name": SMALL_DEPARTMENT, "staff": int(dept_staff.get(SMALL_DEPARTMENT, 0)),
                             "respondents": int(dept_resp.get(SMALL_DEPARTMENT, 0))},
        "segments": {
            "count": 4,
            "names": dict(SEGMENT_NAMES),
            "sizes": {i + 1: int(s) for i, s in enumerate(sizes)},
            "latent_centroids": {i + 1: dict(zip(CONSTRUCT_IDS, map(float, row))) for i, row in enumerate(SEGMENT_CENTROIDS)},
            "person_sd": PERSON_SD,
            "item_sd": ITEM_SD,
            "recovery": "KMeans(k=4, n_init=10, random_state=0) on z-scored construct means: ARI >= 0.85",
        },
        "hypotheses": _hypothesis_truth(survey, scores, tools),
        "weighting": _weighting_truth(resp, scores, roster),
        "comments": {
            "header": COMMENT_HEADER,
            "n_answered": int((survey[COMMENT_HEADER] != "").sum()),
            "personal_data": comment_rows,
        },
        "training": training_truth,
        "measures": {"dependency_violation": PLANTED_DEPENDENCY_VIOLATION,
                     "detail": "M06(2026年度開始)が M07(2027年度開始)に依存している"},
    }


# --------------------------------------------------------------------------- earlier wave
def _previous_value(name: str) -> str:
    back = {new: old for old, new in PREVIOUS_RENAMES.items()}
    return back.get(name, name)


def build_previous_codebook() -> dict:
    """``2024/codebook.yaml``: that year's department names, one reworded item, no
    ``caution_05`` (added in FY2025), a FAX tool question (dropped in FY2025), no training."""
    cb = build_codebook()
    cb.pop("training")
    cb["free_text"] = []
    dept = cb["attributes"]["department"]
    dept["values"] = [_previous_value(v) for v in dept["values"]]
    cb["items"] = [dict(i, header=REWORDED_ITEM[1]) if i["id"] == REWORDED_ITEM[0] else i for i in cb["items"] if i["id"] != ADDED_ITEM]
    cb["tools"]["items"].append({"id": DROPPED_TOOL[0], "header": DROPPED_TOOL[1], "label": DROPPED_TOOL[2]})
    return cb


def build_previous_roster(n_respondents: int) -> pd.DataFrame:
    """``2024/roster.csv``: the same staff as this year, under that year's department names."""
    roster = build_roster(n_respondents)
    roster["所属部署"] = roster["所属部署"].map(_previous_value)
    return roster


def _previous_latent(resp, segment, rng) -> np.ndarray:
    """Latent levels a year earlier: this year's model minus the planted gain."""
    return latent_constructs(resp, segment, rng) - WAVE_GAIN[segment - 1]


def build_previous_wave(n_respondents: int, seed: int) -> tuple[dict, dict]:
    """The FY2024 wave (own random streams: this year's files do not change).

    Same roster structure, response rates, segment prevalence and measurement model as
    FY2025; the only planted differences are :data:`WAVE_GAIN` (segment 2 lower on data
    and tech a year earlier), the department name (:data:`PREVIOUS_RENAMES`) and the
    questionnaire changes (:data:`ADDED_ITEM`, :data:`DROPPED_TOOL`, :data:`REWORDED_ITEM`).

    Returns
    -------
    (files, truth)
        ``files``: ``codebook`` (dict), ``survey``, ``roster``, ``planted_segments`` (DataFrames);
        ``truth``: the planted changes for ``truth/truth.yaml``.
    """
    rng = _streams(int(np.random.SeedSequence([seed, PREVIOUS_FISCAL_YEAR]).generate_state(1)[0]),
                   ["respondents", "segments", "latent", "items", "tools", "times", "population"])
    n_prev = int(round(PREVIOUS_RESPONDENT_SHARE * n_respondents))
    roster = build_roster(n_respondents)
    resp = sample_respondents(roster, n_prev, rng["respondents"])
    segment = assign_segments(resp, rng["segments"])
    latent = _previous_latent(resp, segment, rng["latent"])
    values, missing = likert_answers(latent, rng["items"])
    tools = tool_answers(resp, segment, rng["tools"])
    start, end = response_times(n_prev, rng["times"])
    start, end = start - pd.Timedelta(days=364), end - pd.Timedelta(days=364)  # same weekdays a year earlier
    order = np.argsort(end.to_numpy(), kind="stable")
    resp = {k: v[order] for k, v in resp.items()}
    segment, values, missing, tools = (x[order] for x in (segment, values, missing, tools))
    start, end = start.iloc[order].reset_index(drop=True), end.iloc[order].reset_index(drop=True)
    survey = build_survey(resp, values, missing, tools, np.full(n_prev, "", dtype=object), start, end)
    survey = survey.drop(columns=[COMMENT_HEADER, next(i[1] for i in ITEMS if i[0] == ADDED_ITEM)])
    survey = survey.rename(columns={next(i[1] for i in ITEMS if i[0] == REWORDED_ITEM[0]): REWORDED_ITEM[1]})
    survey["所属部署"] = survey["所属部署"].map(_previous_value)
    fax = np.where(rng["tools"].random(n_prev) < DROPPED_TOOL[3], TOOL_YES, TOOL_NO)
    survey[DROPPED_TOOL[1]] = fax
    planted = pd.DataFrame({"respondent_id": survey["ID"].to_numpy(), "segment": segment,
                            "segment_name": np.array([SEGMENT_NAMES[s] for s in range(1, 5)], dtype=object)[segment - 1]})
    files = {"codebook": build_previous_codebook(), "survey": survey, "roster": build_previous_roster(n_respondents), "planted_segments": planted}
    return files, _wave_truth(roster, segment, rng["population"])


def _wave_truth(roster: pd.DataFrame, sample_segment: np.ndarray, rng) -> dict:
    """Population truth of the change: the whole staff answering in both years.

    :data:`TRUTH_POPULATION` staff are spread over the roster cells in proportion to their
    staff (segment, latent levels and answers from the generating model, without missing
    answers), once per year with the same segments and person effects; the truth is the
    difference of the staff means of the construct scores (the estimand of the weighted
    estimates), overall and within segment 2.
    """
    cells = _roster_codes(roster)
    counts = _apportion(TRUTH_POPULATION, roster["職員数"].to_numpy(float))
    staff = {k: np.repeat(v, counts) for k, v in cells.items()}
    segment = assign_segments(staff, rng)
    latent_now = latent_constructs(staff, segment, rng)
    latent_then = latent_now - WAVE_GAIN[segment - 1]
    ans_now, _ = likert_answers(latent_now, rng)
    ans_then, _ = likert_answers(latent_then, rng)
    none = np.zeros_like(ans_now)
    now, then = construct_means(ans_now, none), construct_means(ans_then, none)
    seg2 = segment == 2
    out = {"fiscal_years": [PREVIOUS_FISCAL_YEAR, FISCAL_YEAR],
           "latent_gain_segment_2": {c: float(WAVE_GAIN[1, j]) for j, c in enumerate(CONSTRUCT_IDS)},
           "expected_change": {c: _r(now[:, j].mean() - then[:, j].mean(), 3) for j, c in enumerate(CONSTRUCT_IDS)},
           "expected_change_segment_2": {c: _r(now[seg2, j].mean() - then[seg2, j].mean(), 3) for j, c in enumerate(CONSTRUCT_IDS)},
           "unchanged": [c for j, c in enumerate(CONSTRUCT_IDS) if WAVE_GAIN[:, j].sum() == 0],
           "staff_share_segment_2": _r(seg2.mean(), 3),
           "renamed_department": {old: new for old, new in PREVIOUS_RENAMES.items()},
           "added_item": ADDED_ITEM, "dropped_tool": DROPPED_TOOL[0], "reworded_item": REWORDED_ITEM[0],
           "respondents": int(len(sample_segment)),
           "segment_sizes": {i + 1: int(v) for i, v in enumerate(np.bincount(sample_segment, minlength=5)[1:])},
           "note": "caution の比較は両年度に共通の設問(caution_01〜04)だけで行う。mind・why・use・caution は生成モデル上の変化がちょうど 0。"}
    return out


def build_actuals() -> pd.DataFrame:
    """``actuals.csv``: KPI actuals that do not come from the survey."""
    return pd.DataFrame(ACTUALS, columns=["measure_id", "fiscal_year", "actual"])


# --------------------------------------------------------------------------- public API
def generate_sample(*, n_respondents: int = 500, seed: int = DEFAULT_SEED, municipality_id: str = "sample",
                    name: str = "サンプル市") -> SampleData:
    """Generate the sample municipality in memory (no file I/O).

    Parameters
    ----------
    n_respondents : int, default 500
        Survey respondents; the roster scales with it (about 2.8 staff per respondent).
        At least 30.
    seed : int, default 20251126
        Seed of every random draw. Same arguments → identical data.
    municipality_id : str, default "sample"
        ``id`` in ``municipality.yaml`` (``[a-z0-9_-]+``).
    name : str, default "サンプル市"
        Display name.

    Returns
    -------
    SampleData
        Every file's contents and the planted truth.
    """
    if n_respondents < 30:
        raise ValueError("n_respondents must be at least 30")
    municipality = build_municipality(municipality_id, name)
    rng = _streams(seed, ["respondents", "segments", "latent", "items", "tools", "comments", "times", "training"])
    roster = build_roster(n_respondents)
    resp = sample_respondents(roster, n_respondents, rng["respondents"])
    segment = assign_segments(resp, rng["segments"])
    latent = latent_constructs(resp, segment, rng["latent"])
    values, missing = likert_answers(latent, rng["items"])
    tools = tool_answers(resp, segment, rng["tools"])
    comments, personal = free_text(segment, rng["comments"])
    start, end = response_times(n_respondents, rng["times"])

    # Forms numbers the answers in order of completion: sort everything by completion time
    order = np.argsort(end.to_numpy(), kind="stable")
    resp = {k: v[order] for k, v in resp.items()}
    segment, latent, values, missing, tools, comments = (x[order] for x in (segment, latent, values, missing, tools, comments))
    start, end = start.iloc[order].reset_index(drop=True), end.iloc[order].reset_index(drop=True)
    new_pos = np.empty_like(order)
    new_pos[order] = np.arange(len(order))
    personal = sorted(({**p, "index": int(new_pos[p["index"]])} for p in personal), key=lambda p: p["index"])

    survey = build_survey(resp, values, missing, tools, comments, start, end)
    ids = survey["ID"].to_numpy()
    scores = construct_means(values, missing)
    pre, post, followup, training_truth = build_training(ids, segment, latent, n_respondents, rng["training"])
    opp_text, opportunities = load_default_opportunities()
    planted = pd.DataFrame({"respondent_id": ids, "segment": segment,
                            "segment_name": np.array([SEGMENT_NAMES[s] for s in range(1, 5)], dtype=object)[segment - 1]})
    truth = build_truth(seed=seed, n_respondents=n_respondents, roster=roster, resp=resp, survey=survey, segment=segment,
                        scores=scores, tools=tools, personal=personal, training_truth=training_truth)
    previous, truth["waves"] = build_previous_wave(n_respondents, seed)
    return SampleData(
        municipality=municipality, codebook=build_codebook(), roster=roster, survey=survey,
        hypotheses=build_hypotheses(), opportunities=opportunities, assessment=build_assessment(),
        measures=build_measures(), training_pre=pre, training_post=post, training_followup=followup,
        planted_segments=planted, truth=truth, opportunities_text=opp_text, previous=previous, actuals=build_actuals(),
    )


def _csv_bytes(df: pd.DataFrame) -> bytes:
    """CSV in UTF-8 with BOM (Excel opens it correctly), ``\\n`` line ends."""
    return df.to_csv(index=False, lineterminator="\n").encode("utf-8-sig")


def _yaml_bytes(obj, header: str) -> bytes:
    """YAML (UTF-8, Japanese kept readable, keys in insertion order) with a comment header."""
    body = yaml.safe_dump(obj, allow_unicode=True, sort_keys=False, width=4096, default_flow_style=False)
    return (header + body).encode("utf-8")


def render_files(data: SampleData) -> dict[str, bytes]:
    """Every file of the folder as bytes, keyed by relative path (``truth/…`` included)."""
    m = data.municipality
    note = f"# {m['name']} ({m['id']}): 架空のサンプルデータ。dxanalysis.sample が生成 / invented sample data.\n"
    return {
        "municipality.yaml": _yaml_bytes(m, note),
        "codebook.yaml": _yaml_bytes(data.codebook, note + "# 調査の列名 → 項目・構成概念の対応表 / header → item map\n"),
        "roster.csv": _csv_bytes(data.roster),
        "survey.csv": _csv_bytes(data.survey),
        "hypotheses.yaml": _yaml_bytes(data.hypotheses, note + "# 事前仮説 / the advisor's prior hypotheses\n"),
        "opportunities.yaml": data.opportunities_text.encode("utf-8"),
        "assessment.csv": _csv_bytes(data.assessment),
        "measures.csv": _csv_bytes(data.measures),
        "training_pre.csv": _csv_bytes(data.training_pre),
        "training_post.csv": _csv_bytes(data.training_post),
        "training_followup.csv": _csv_bytes(data.training_followup),
        f"{PREVIOUS_FISCAL_YEAR}/codebook.yaml": _yaml_bytes(data.previous["codebook"], note + f"# {PREVIOUS_FISCAL_YEAR}年度(前回)の調査の対応表 / codebook of the FY{PREVIOUS_FISCAL_YEAR} wave\n"),
        f"{PREVIOUS_FISCAL_YEAR}/survey.csv": _csv_bytes(data.previous["survey"]),
        f"{PREVIOUS_FISCAL_YEAR}/roster.csv": _csv_bytes(data.previous["roster"]),
        "actuals.csv": _csv_bytes(data.actuals),
        "truth/planted_segments.csv": _csv_bytes(data.planted_segments),
        f"truth/planted_segments_{PREVIOUS_FISCAL_YEAR}.csv": _csv_bytes(data.previous["planted_segments"]),
        "truth/truth.yaml": _yaml_bytes(data.truth, note + "# 埋め込んだ正解(分析の検証用。読み込み時は無視される)/ planted truth, ignored by loaders\n"),
    }


def write_sample(path: Path | str, *, n_respondents: int = 500, seed: int = DEFAULT_SEED, municipality_id: str = "sample",
                 name: str = "サンプル市") -> Path:
    """Write the sample municipality folder (see :func:`generate_sample` for the parameters).

    Existing files of the same names are overwritten; other files are left alone.

    Returns
    -------
    pathlib.Path
        The folder written.
    """
    folder = Path(path)
    data = generate_sample(n_respondents=n_respondents, seed=seed, municipality_id=municipality_id, name=name)
    for rel, content in render_files(data).items():
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    return folder
