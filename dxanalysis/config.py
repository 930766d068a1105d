"""Settings of one municipality (municipality.yaml, codebook.yaml) and the project paths.

pydantic validates the YAML files: it gives typed defaults and precise error locations
with far less code than hand-written checks; its errors are turned into
:class:`~dxanalysis.validate.Problem` objects so the user sees them in Japanese.
"""

from __future__ import annotations

import datetime as _dt
import warnings
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .validate import InputError, Problem

PACKAGE_DIR = Path(__file__).resolve().parent
RESOURCES_DIR = PACKAGE_DIR / "resources"
PROJECT_DIR = PACKAGE_DIR.parent
NOTEBOOKS_DIR = PROJECT_DIR / "notebooks"
DATA_DIR = PROJECT_DIR / "data"
REPORTS_DIR = PROJECT_DIR / "reports"

#: The analysis notebooks, in the order of the programme.
NOTEBOOKS = ["01_current_state", "02_segments", "03_roadmap", "04_training"]

ABSOLUTE_MIN_GROUP_SIZE = 3

OPTIONAL_INPUTS = {
    "hypotheses": ["hypotheses.yaml"],
    "opportunities": ["opportunities.yaml"],
    "assessment": ["assessment.csv", "assessment.xlsx", "assessment.yaml"],
    "measures": ["measures.csv", "measures.xlsx"],
    "training_pre": ["training_pre.csv", "training_pre.xlsx"],
    "training_post": ["training_post.csv", "training_post.xlsx"],
    "training_followup": ["training_followup.csv", "training_followup.xlsx"],
}
REQUIRED_INPUTS = {"survey": ["survey.csv", "survey.xlsx"], "codebook": ["codebook.yaml"], "roster": ["roster.csv", "roster.xlsx"]}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MunicipalityConfig(_Strict):
    """municipality.yaml. See docs/data-contract.md for every key."""

    id: str = Field(pattern=r"^[a-z0-9_\-]+$")
    name: str
    fiscal_year: int = Field(ge=2000, le=2100)
    data_date: _dt.date | None = None
    min_group_size: int = 5
    comment_min_group_size: int = 10
    language: Literal["ja", "en"] = "ja"
    inputs: dict[str, str] = Field(default_factory=dict)
    folder: Path | None = None  # set by the loader

    @field_validator("min_group_size")
    @classmethod
    def _min_size(cls, v: int) -> int:
        if v < ABSOLUTE_MIN_GROUP_SIZE:
            raise ValueError(f"min_group_size は {ABSOLUTE_MIN_GROUP_SIZE} 以上にしてください (got {v})")
        return v

    @model_validator(mode="after")
    def _comment_size(self):
        if self.comment_min_group_size < self.min_group_size:
            raise ValueError("comment_min_group_size must be >= min_group_size")
        unknown = set(self.inputs) - set(REQUIRED_INPUTS) - set(OPTIONAL_INPUTS)
        if unknown:
            raise ValueError(f"unknown inputs: {sorted(unknown)}")
        return self

    def input_path(self, key: str) -> Path | None:
        """Path of an input, or None when an optional input is absent."""
        assert self.folder is not None
        if key in self.inputs:
            return self.folder / self.inputs[key]
        for name in {**REQUIRED_INPUTS, **OPTIONAL_INPUTS}[key]:
            if (self.folder / name).exists():
                return self.folder / name
        if key in REQUIRED_INPUTS:
            return self.folder / REQUIRED_INPUTS[key][0]
        return None


class Attribute(_Strict):
    header: str
    label: str
    values: list[str]


class Scale(_Strict):
    min: int
    max: int
    labels: dict[int, str]
    missing: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _labels_in_range(self):
        if self.min >= self.max:
            raise ValueError("scale min must be < max")
        bad = [k for k in self.labels if not self.min <= k <= self.max]
        if bad:
            raise ValueError(f"labels outside min..max: {bad}")
        return self

    @property
    def neutral(self) -> float:
        return (self.min + self.max) / 2


class Construct(_Strict):
    label: str
    area: str
    label_en: str | None = None


with warnings.catch_warnings():
    # "construct" is the domain word; it shadows pydantic's deprecated BaseModel.construct.
    warnings.simplefilter("ignore", UserWarning)

    class Item(_Strict):
        id: str
        header: str
        construct: str
        scale: str
        reverse: bool = False
        short: str | None = None


class Tool(_Strict):
    id: str
    header: str
    label: str


class Tools(_Strict):
    yes: list[str] = Field(default_factory=lambda: ["はい", "使っている"])
    no: list[str] = Field(default_factory=lambda: ["いいえ", "使っていない"])
    items: list[Tool] = Field(default_factory=list)


class FreeText(_Strict):
    id: str
    header: str
    label: str


class TrainingItem(_Strict):
    id: str
    header: str
    kind: Literal["likert", "yesno", "text"] = "likert"
    scale: str | None = None
    waves: list[Literal["pre", "post", "followup"]] | None = None
    label: str | None = None


class TrainingCodebook(_Strict):
    key: str
    group: str | None = None
    participant: list[str] = Field(default_factory=lambda: ["受講者"])
    non_participant: list[str] = Field(default_factory=lambda: ["非受講者"])
    yes: list[str] = Field(default_factory=lambda: ["はい"])
    no: list[str] = Field(default_factory=lambda: ["いいえ"])
    items: list[TrainingItem]


class Codebook(_Strict):
    """codebook.yaml: exported header → item id, construct, scale, attributes."""

    respondent_id: str
    ignore: list[str] = Field(default_factory=list)
    attributes: dict[str, Attribute]
    scales: dict[str, Scale]
    constructs: dict[str, Construct]
    items: list[Item]
    tools: Tools = Field(default_factory=Tools)
    free_text: list[FreeText] = Field(default_factory=list)
    training: TrainingCodebook | None = None

    @model_validator(mode="after")
    def _references(self):
        problems = []
        ids = [i.id for i in self.items] + [t.id for t in self.tools.items] + [f.id for f in self.free_text]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            problems.append(f"duplicate ids: {dup}")
        for it in self.items:
            if it.construct not in self.constructs:
                problems.append(f"item {it.id}: unknown construct {it.construct!r}")
            if it.scale not in self.scales:
                problems.append(f"item {it.id}: unknown scale {it.scale!r}")
        if self.training:
            for it in self.training.items:
                if it.kind == "likert" and it.scale not in self.scales:
                    problems.append(f"training item {it.id}: unknown scale {it.scale!r}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    # convenience views -------------------------------------------------------------
    @property
    def item_ids(self) -> list[str]:
        return [i.id for i in self.items]

    @property
    def tool_ids(self) -> list[str]:
        return [t.id for t in self.tools.items]

    @property
    def text_ids(self) -> list[str]:
        return [f.id for f in self.free_text]

    @property
    def attribute_ids(self) -> list[str]:
        return list(self.attributes)

    def items_of(self, construct: str) -> list[str]:
        return [i.id for i in self.items if i.construct == construct]

    def item(self, item_id: str) -> Item:
        return next(i for i in self.items if i.id == item_id)

    def label_of(self, key: str) -> str:
        """Display label of a construct, item, tool, attribute or free-text id."""
        if key in self.constructs:
            return self.constructs[key].label
        if key in self.attributes:
            return self.attributes[key].label
        for i in self.items:
            if i.id == key:
                return i.short or i.header
        for t in self.tools.items:
            if t.id == key:
                return t.label
        for f in self.free_text:
            if f.id == key:
                return f.label
        return key

    def items_frame(self):
        """Items as a table: item_id, header, short, construct, construct_label, area, scale, reverse."""
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "item_id": i.id,
                    "header": i.header,
                    "short": i.short or i.header,
                    "construct": i.construct,
                    "construct_label": self.constructs[i.construct].label,
                    "area": self.constructs[i.construct].area,
                    "scale": i.scale,
                    "reverse": i.reverse,
                }
                for i in self.items
            ]
        )


def _pydantic_problems(err: ValidationError, file: str) -> list[Problem]:
    out = []
    for e in err.errors():
        loc = ".".join(str(x) for x in e["loc"])
        out.append(Problem(file=file, code="config_invalid", column=loc or None, value=e.get("input") if not isinstance(e.get("input"), (dict, list)) else None, params={"detail": f"{loc}: {e['msg']}" if loc else e["msg"]}))
    return out


def read_yaml(path: Path) -> object:
    """Read a YAML file; syntax errors become an InputError naming the line."""
    if not path.exists():
        raise InputError([Problem(file=path.name, code="file_missing")])
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        return yaml.safe_load(path.read_bytes().decode("cp932"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = mark.line + 1 if mark is not None else None
        raise InputError([Problem(file=path.name, code="yaml_invalid", row=row, params={"detail": str(getattr(exc, "problem", exc))})]) from None


def load_config(folder: Path | str) -> MunicipalityConfig:
    """Read and check ``municipality.yaml`` in a municipality folder."""
    folder = Path(folder)
    path = folder / "municipality.yaml"
    raw = read_yaml(path) or {}
    if not isinstance(raw, dict):
        raise InputError([Problem(file=path.name, code="yaml_invalid", params={"detail": "mapping expected"})])
    raw.setdefault("id", folder.name.lower())
    try:
        cfg = MunicipalityConfig(**raw)
    except ValidationError as err:
        raise InputError(_pydantic_problems(err, path.name), raw.get("language", "ja")) from None
    cfg.folder = folder
    return cfg


def load_codebook(path: Path, language: str = "ja") -> Codebook:
    """Read and check ``codebook.yaml``."""
    raw = read_yaml(path) or {}
    # YAML 1.1 reads an unquoted `yes:` / `no:` key as True / False; accept both spellings.
    for section in (raw.get("tools"), raw.get("training")):
        if isinstance(section, dict):
            for flag, key in ((True, "yes"), (False, "no")):
                if flag in section:
                    section[key] = section.pop(flag)
    try:
        return Codebook(**raw)
    except ValidationError as err:
        raise InputError(_pydantic_problems(err, path.name), language) from None
    except TypeError as err:
        raise InputError([Problem(file=path.name, code="yaml_invalid", params={"detail": str(err)})], language) from None
