"""Settings of one municipality (municipality.yaml, codebook.yaml) and the project paths.

pydantic validates the YAML files: it gives typed defaults and precise error locations
with far less code than hand-written checks; its errors are turned into
:class:`~dxanalysis.validate.Problem` objects so the user sees them in Japanese.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import types
import typing
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from . import __version__
from .textnorm import nfkc as _nfkc
from .validate import InputError, Problem, close_match

PACKAGE_DIR = Path(__file__).resolve().parent
RESOURCES_DIR = PACKAGE_DIR / "resources"
PROJECT_DIR = PACKAGE_DIR.parent
NOTEBOOKS_DIR = PROJECT_DIR / "notebooks"
DATA_DIR = PROJECT_DIR / "data"
REPORTS_DIR = PROJECT_DIR / "reports"

#: The analysis notebooks, in the order of the programme.
NOTEBOOKS = ["01_current_state", "02_segments", "03_roadmap", "04_training", "06_waves"]

ABSOLUTE_MIN_GROUP_SIZE = 3

#: Roles a training item can play in notebook 04 (``training.items[].role``), with the kinds
#: each accepts, and the item id used when no item of the codebook has a role.
TRAINING_ROLES = {
    "satisfaction": ("likert", "yesno"),
    "attitude": ("likert", "yesno"),
    "planned_action": ("likert", "yesno"),
    "comment": ("text",),
}

OPTIONAL_INPUTS = {
    "hypotheses": ["hypotheses.yaml"],
    "opportunities": ["opportunities.yaml"],
    "assessment": ["assessment.csv", "assessment.xlsx", "assessment.yaml"],
    "measures": ["measures.csv", "measures.xlsx"],
    "training_pre": ["training_pre.csv", "training_pre.xlsx"],
    "training_post": ["training_post.csv", "training_post.xlsx"],
    "training_followup": ["training_followup.csv", "training_followup.xlsx"],
    "actuals": ["actuals.csv", "actuals.xlsx"],  # KPI actuals (notebook 06)
}
REQUIRED_INPUTS = {"survey": ["survey.csv", "survey.xlsx"], "codebook": ["codebook.yaml"], "roster": ["roster.csv", "roster.xlsx"]}


class _Strict(BaseModel):
    # numbers written without quotes (values: [1, 2]) are read as the text "1", "2" like CSV cells
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)


def _problems_error(problems: list[tuple]) -> PydanticCustomError:
    """Several located problems raised from one validator.

    Each problem is ``(code, loc, value, params)``; :func:`_pydantic_problems` turns every
    one into its own :class:`Problem` (one line each, not "a; b" in one message).
    """
    summary = "; ".join(f"{'.'.join(map(str, loc))}: {code}" for code, loc, _, _ in problems)
    return PydanticCustomError("dx_problems", "{summary}", {"summary": summary, "problems": problems})


class WaveConfig(_Strict):
    """An earlier survey wave (``waves:`` in municipality.yaml; notebook 06).

    Paths are relative to the municipality folder. ``renames`` maps, per attribute id,
    a value of that year to this year's value (組織改編: renamed or merged departments).
    """

    fiscal_year: int = Field(ge=2000, le=2100)
    survey: str
    codebook: str
    roster: str
    renames: dict[str, dict[str, str]] = Field(default_factory=dict)

    @field_validator("renames")
    @classmethod
    def _nfkc_renames(cls, v: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        return {_nfkc(a): {_nfkc(old): _nfkc(new) for old, new in m.items()} for a, m in v.items()}


class MunicipalityConfig(_Strict):
    """municipality.yaml. See docs/data-contract.md for every key."""

    id: str = Field(pattern=r"^[a-z0-9_\-]+$")
    name: str
    fiscal_year: int = Field(ge=2000, le=2100)
    data_date: _dt.date | None = None
    min_group_size: int = 5
    #: default ``max(10, min_group_size)``: always a valid value when only min_group_size is set
    comment_min_group_size: int | None = None
    language: Literal["ja", "en"] = "ja"
    inputs: dict[str, str] = Field(default_factory=dict)
    waves: list[WaveConfig] = Field(default_factory=list)  # earlier survey waves (notebook 06)
    folder: Path | None = None  # set by the loader

    @field_validator("min_group_size")
    @classmethod
    def _min_size(cls, v: int) -> int:
        if v < ABSOLUTE_MIN_GROUP_SIZE:
            raise PydanticCustomError("min_group_size_floor", "min_group_size must be >= {floor}", {"floor": ABSOLUTE_MIN_GROUP_SIZE})
        return v

    @field_validator("inputs")
    @classmethod
    def _known_inputs(cls, v: dict[str, str]) -> dict[str, str]:
        known = [*REQUIRED_INPUTS, *OPTIONAL_INPUTS]
        problems = []
        for key in v:
            if key not in known:
                hint = close_match(key, known)
                problems.append(("unknown_input", (key,), None, {"key": key, "allowed": ", ".join(known), **({"hint": "did_you_mean", "suggest": hint} if hint else {})}))
        if problems:
            raise _problems_error(problems)
        return v

    @model_validator(mode="after")
    def _comment_size(self):
        if self.comment_min_group_size is None:
            self.comment_min_group_size = max(10, self.min_group_size)
        elif self.comment_min_group_size < self.min_group_size:
            raise _problems_error([("comment_min_below_min", ("comment_min_group_size",), self.comment_min_group_size,
                                    {"comment": self.comment_min_group_size, "min": self.min_group_size})])
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

    @field_validator("values")
    @classmethod
    def _nfkc_values(cls, v: list[str]) -> list[str]:
        # the survey's cells are NFKC-normalised, so the allowed values are too (３０代 = 30代)
        return [_nfkc(x) for x in v]


class Scale(_Strict):
    min: int
    max: int
    labels: dict[int, str]
    missing: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _labels_in_range(self):
        if self.min >= self.max:
            raise _problems_error([("scale_min_max", ("min",), self.min, {"min": self.min, "max": self.max})])
        bad = [k for k in self.labels if not self.min <= k <= self.max]
        if bad:
            raise _problems_error([("scale_label_outside", ("labels", k), k, {"value": k, "min": self.min, "max": self.max}) for k in bad])
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


class MultiSelectOption(_Strict):
    id: str
    label: str
    #: the catch-all 「その他」: a cell part reading その他, その他: 自由記述 or その他(…) counts as this option
    other: bool = False


class MultiSelect(_Strict):
    """A "choose all that apply" question: one exported column, options joined by ``separator``.

    Each option becomes a 0/1 measure ``<id>__<option id>`` (1 = chosen, 0 = answered the
    question but did not choose it, NaN = question left blank), used like a yes/no tool.
    """

    id: str
    header: str
    label: str
    separator: str = ";"
    options: list[MultiSelectOption]

    def measure_id(self, option: str) -> str:
        return f"{self.id}__{option}"


class BinaryMeasure(typing.NamedTuple):
    """A 0/1 survey measure: a yes/no tool, or one option of a multi-select question."""

    id: str
    header: str
    label: str
    source: str  # "tool" or "multi_select"


class TrainingItem(_Strict):
    id: str
    header: str
    kind: Literal["likert", "yesno", "text"] = "likert"
    scale: str | None = None
    waves: list[Literal["pre", "post", "followup"]] | None = None
    label: str | None = None
    #: what the item is for in notebook 04 (satisfaction, attitude, planned_action, comment);
    #: without any role in the codebook, the notebook's id parameters are used
    role: str | None = None


class TrainingCodebook(_Strict):
    key: str
    group: str | None = None
    #: exported headers of the training files that are never read (the top-level ignore applies too)
    ignore: list[str] = Field(default_factory=list)
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
    multi_select: list[MultiSelect] = Field(default_factory=list)
    training: TrainingCodebook | None = None

    @model_validator(mode="after")
    def _references(self):
        problems = _reference_problems(self)
        if problems:
            raise _problems_error(problems)
        return self

    # convenience views -------------------------------------------------------------
    @property
    def item_ids(self) -> list[str]:
        return [i.id for i in self.items]

    @property
    def tool_ids(self) -> list[str]:
        """Ids of every 0/1 measure: yes/no tools, then multi-select options (``<id>__<option>``)."""
        return [b.id for b in self.binary_measures]

    @property
    def binary_measures(self) -> list[BinaryMeasure]:
        """Every 0/1 measure in codebook order: tools, then each multi-select option."""
        out = [BinaryMeasure(t.id, t.header, t.label, "tool") for t in self.tools.items]
        for q in self.multi_select:
            out += [BinaryMeasure(q.measure_id(o.id), q.header, f"{q.label}: {o.label}", "multi_select") for o in q.options]
        return out

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
        for t in self.binary_measures:
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


def _reference_problems(cb: Codebook) -> list[tuple]:
    """Cross-references of a codebook, one ``(code, loc, value, params)`` per problem."""
    out: list[tuple] = []

    def unknown(section: str, known, value, loc):
        known = list(known)
        params = {"section": section, "known": ", ".join(map(str, known)) or "-"}
        hint = close_match(value, known)
        if hint:
            params.update(hint="did_you_mean", suggest=hint)
        out.append(("codebook_unknown_ref", loc, value, params))

    seen: dict[str, tuple] = {}
    entries = [("items", i, x) for i, x in enumerate(cb.items)] + [(("tools", "items"), i, x) for i, x in enumerate(cb.tools.items)] + [("free_text", i, x) for i, x in enumerate(cb.free_text)]
    entries += [("multi_select", i, x) for i, x in enumerate(cb.multi_select)]
    for section, i, x in entries:
        loc = (*((section,) if isinstance(section, str) else section), i)
        if x.id in seen:
            out.append(("codebook_duplicate_id", (*loc, "id"), x.id, {}))
        else:
            seen[x.id] = loc
    headers: dict[str, str] = {_nfkc(cb.respondent_id): "respondent_id"}
    for aid, a in cb.attributes.items():
        loc = ("attributes", aid)
        h = _nfkc(a.header)
        if h in headers:
            out.append(("codebook_duplicate_header", (*loc, "header"), a.header, {"first": headers[h]}))
        headers.setdefault(h, f"attributes.{aid}")
        dup = [v for j, v in enumerate(a.values) if v in a.values[:j]]
        for v in dict.fromkeys(dup):
            out.append(("codebook_duplicate_value", (*loc, "values"), v, {}))
    for section, i, x in entries:
        name = section if isinstance(section, str) else ".".join(section)
        h = _nfkc(x.header)
        if h in headers:
            out.append(("codebook_duplicate_header", (*((section,) if isinstance(section, str) else section), i, "header"), x.header, {"first": headers[h]}))
        headers.setdefault(h, f"{name}[{i + 1}]")
    for i, it in enumerate(cb.items):
        if it.construct not in cb.constructs:
            unknown("constructs", cb.constructs, it.construct, ("items", i, "construct"))
        if it.scale not in cb.scales:
            unknown("scales", cb.scales, it.scale, ("items", i, "scale"))
    for i, q in enumerate(cb.multi_select):
        oids: set[str] = set()
        if not q.options:
            out.append(("config_empty", ("multi_select", i, "options"), None, {"key": f"multi_select[{i + 1}].options"}))
        if not q.separator.strip() and q.separator != " ":
            out.append(("config_empty", ("multi_select", i, "separator"), None, {"key": f"multi_select[{i + 1}].separator"}))
        for j, o in enumerate(q.options):
            if o.id in oids:
                out.append(("codebook_duplicate_id", ("multi_select", i, "options", j, "id"), o.id, {}))
            oids.add(o.id)
            if q.measure_id(o.id) in seen:
                out.append(("codebook_duplicate_id", ("multi_select", i, "options", j, "id"), q.measure_id(o.id), {}))
    if cb.training:
        tids: set[str] = set()
        roles: dict[str, str] = {}
        for i, it in enumerate(cb.training.items):
            loc = ("training", "items", i)
            if it.id in tids:
                out.append(("codebook_duplicate_id", (*loc, "id"), it.id, {}))
            tids.add(it.id)
            if it.role is not None and it.role not in TRAINING_ROLES:
                hint = close_match(it.role, list(TRAINING_ROLES))
                out.append(("codebook_unknown_role", (*loc, "role"), it.role, {"known": ", ".join(TRAINING_ROLES), **({"hint": "did_you_mean", "suggest": hint} if hint else {})}))
            elif it.role is not None and it.kind not in TRAINING_ROLES[it.role]:
                out.append(("codebook_role_kind", (*loc, "role"), it.role, {"kind": it.kind, "kinds": ", ".join(TRAINING_ROLES[it.role])}))
            if it.role is not None and it.role in roles:
                out.append(("codebook_duplicate_role", (*loc, "role"), it.role, {"first": roles[it.role]}))
            roles.setdefault(it.role, it.id) if it.role else None
            if it.kind == "likert":
                if it.scale is None:
                    out.append(("codebook_scale_required", (*loc, "scale"), None, {}))
                elif it.scale not in cb.scales:
                    unknown("scales", cb.scales, it.scale, (*loc, "scale"))
    return out


# --------------------------------------------------------------------------- YAML reading
def _decode(path: Path) -> str:
    """Text of a settings file: UTF-8 (with or without BOM), else cp932 (Shift_JIS as Excel/Notepad save it)."""
    raw = path.read_bytes()
    for enc in ("utf-8-sig", "cp932"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise InputError([Problem(file=path.name, code="yaml_unreadable")])


def _syntax_problem(exc: yaml.YAMLError, name: str, text: str) -> Problem:
    """A YAML syntax error in plain words with its line (the parser's English only as a last resort)."""
    problem = str(getattr(exc, "problem", "") or exc)
    context = str(getattr(exc, "context", "") or "")
    mark = getattr(exc, "problem_mark", None)
    cmark = getattr(exc, "context_mark", None)
    params: dict = {}
    if "\t" in problem or "\\t" in problem:
        code = "yaml_tab"
    elif "quoted scalar" in context or "flow" in context or "end of stream" in problem:
        code = "yaml_unclosed"
        mark = cmark or mark  # the line where the quote or bracket was opened
    elif "mapping values are not allowed" in problem or "expected ':'" in problem or "simple key" in context:
        code = "yaml_colon"
    elif "block end" in problem or "block" in context or "indentation" in problem:
        code = "yaml_indent"
    else:
        code, params = "yaml_syntax", {"detail": problem}
    line = mark.line + 1 if mark is not None else None
    lines = text.splitlines()
    near = [lines[i] for i in range(max(0, (line or 1) - 2), min(len(lines), (line or 1))) if i < len(lines)] if line else []
    if code in ("yaml_colon", "yaml_syntax") and any("：" in x for x in near):
        params["hint"] = "fullwidth_colon"
    elif any(x.startswith("\u3000") for x in near):
        params["hint"] = "fullwidth_indent"
    return Problem(file=name, code=code, row=line, params=params, row_kind="line")


class _Loader(yaml.SafeLoader):
    """SafeLoader that keeps dates as text: pydantic checks them and names the key (2025-13-40 → a message, not a crash)."""


_Loader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))


#: Parsed YAML files of this process by text: (data, node tree). municipality.yaml is read
#: three times per ``io.load_municipality`` and every notebook loads the same folder, so a
#: file's text is parsed once per process (pure PyYAML takes 10–40 ms per file). The key is
#: the text itself, so an edited file is parsed again; errors are never stored. Kept on
#: purpose across the notebooks of a warm kernel: ``kernel.reset_state`` rebinds this name to
#: the same dict, whose entries depend only on their key.
_PARSED: dict[str, tuple[object, yaml.Node | None]] = {}
_PARSED_MAX = 32


def _parse(path: Path) -> tuple[object, yaml.Node | None]:
    """(data, node tree) of a YAML file; syntax errors become an InputError naming the line.

    The data is a fresh copy on every call (callers may change it); the node tree is shared
    (only read, by :func:`yaml_line`).
    """
    import copy

    if not path.exists():
        raise InputError([Problem(file=path.name, code="file_missing")])
    text = _decode(path)
    hit = _PARSED.get(text)
    if hit is None:
        hit = _parse_text(text, path.name)
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.pop(next(iter(_PARSED)))
        _PARSED[text] = hit
    return copy.deepcopy(hit[0]), hit[1]


def _parse_text(text: str, name: str) -> tuple[object, yaml.Node | None]:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        raise InputError([_syntax_problem(exc, name, text)]) from None
    finally:
        loader.dispose()
    return data, node


def read_yaml(path: Path) -> object:
    """Read a YAML file (UTF-8 or cp932); syntax errors become an InputError naming the line."""
    return _parse(Path(path))[0]


def read_yaml_located(path: Path) -> tuple[object, yaml.Node | None]:
    """Like :func:`read_yaml`, also returning the node tree for :func:`yaml_line`."""
    return _parse(Path(path))


def yaml_line(node: yaml.Node | None, loc, *, key: bool = False) -> int | None:
    """Line (1-based) of the value at ``loc`` (keys and 0-based list indices) in a node tree.

    Parts that are not in the tree (pydantic's type tags, a missing key) are skipped, so
    the line of the deepest existing node is returned. ``key=True`` gives the line of the
    last key itself rather than its value.
    """
    if node is None:
        return None
    line = node.start_mark.line + 1
    parts = list(loc)
    for n, part in enumerate(parts):
        last = n == len(parts) - 1
        if isinstance(node, yaml.MappingNode):
            hit = next(((k, v) for k, v in node.value if str(k.value) == str(part)), None)
            if hit is None:
                continue
            node = hit[1]
            line = (hit[0] if key and last else hit[1]).start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
    return line


def key_path(loc, node: yaml.Node | None = None) -> str:
    """Human form of a location: ``('items', 3, 'scale')`` → ``items[4].scale`` (1-based entries).

    With the node tree, an integer is an entry number only inside a list (``labels.6`` is
    the key 6 of a mapping).
    """
    out = ""
    for part in loc:
        if isinstance(part, str) and ("[" in part or "(" in part):
            continue  # pydantic's type tags (e.g. "[key]", "list[str]")
        in_list = isinstance(node, yaml.SequenceNode) if node is not None else isinstance(part, int)
        if isinstance(part, int) and in_list:
            out += f"[{part + 1}]"
        else:
            out += ("." if out else "") + str(part)
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if str(k.value) == str(part)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
        else:
            node = None
    return out


# --------------------------------------------------------------------------- pydantic errors
def _unwrap(annotation):
    """The model or container type inside Optional[...] / X | None."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
        return models[0] if models else (args[0] if args else annotation)
    return annotation


def _allowed_keys(model: type[BaseModel], loc) -> list[str]:
    """Field names of the model at ``loc`` (the parent of an unknown key)."""
    ann = model
    for part in loc:
        ann = _unwrap(ann)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            if isinstance(part, str) and part in ann.model_fields:
                ann = ann.model_fields[part].annotation
            continue
        origin, args = typing.get_origin(ann), typing.get_args(ann)
        if origin is list and isinstance(part, int):
            ann = args[0]
        elif origin is dict and not (isinstance(part, str) and "[" in part):
            ann = args[1]
    ann = _unwrap(ann)
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return [k for k in ann.model_fields if k != "folder"]
    return []


_TYPE_CODES = {
    "int_parsing": "config_int", "int_type": "config_int", "int_from_float": "config_int",
    "float_parsing": "config_number", "float_type": "config_number",
    "bool_parsing": "config_bool", "bool_type": "config_bool",
    "string_type": "config_text",
    "list_type": "config_list", "tuple_type": "config_list", "set_type": "config_list",
    "dict_type": "config_mapping", "model_type": "config_mapping", "model_attributes_type": "config_mapping",
    "literal_error": "config_choice", "enum": "config_choice",
    "greater_than_equal": "config_ge", "greater_than": "config_ge",
    "less_than_equal": "config_le", "less_than": "config_le",
}


def _pydantic_problems(err: ValidationError, file: str, *, node=None, model: type[BaseModel] | None = None, default_id: str | None = None) -> list[Problem]:
    """Every pydantic error as a :class:`Problem` in plain words: key (項目), line, value, what to do."""
    out: list[Problem] = []

    def add(code, loc, value, params, *, key_line=False, located=True):
        path = key_path(loc, node)
        shown = value if not isinstance(value, (dict, list, tuple, set)) else None
        row = yaml_line(node, loc, key=key_line) if located else None
        out.append(Problem(file=file, code=code, row=row, column=path or None, value=shown,
                           params={"key": path or "-", "value": shown, **params}, row_kind="line"))

    for e in err.errors():
        typ, loc, ctx, value = e["type"], tuple(e["loc"]), e.get("ctx") or {}, e.get("input")
        if typ == "dx_problems":
            for code, sub_loc, sub_value, params in ctx["problems"]:
                add(code, (*loc, *sub_loc), sub_value, dict(params), key_line=code == "unknown_input")
        elif typ == "missing":
            add("config_missing", loc, None, {}, located=len(loc) > 1)  # a top-level key has no line; an entry's is its parent's
        elif typ == "extra_forbidden":
            name = str(loc[-1])
            allowed = _allowed_keys(model, loc[:-1]) if model is not None else []
            params = {"allowed": ", ".join(allowed) or "-"}
            if name.startswith("\u3000"):
                params["hint"] = "fullwidth_indent"
            else:
                hint = close_match(name, allowed)
                if hint:
                    params.update(hint="did_you_mean", suggest=hint)
            add("config_extra", loc, None, {**params, "key": name}, key_line=True)
        elif typ == "string_pattern_mismatch" and loc == ("id",):
            if default_id is not None:
                add("config_id_from_folder", loc, None, {"folder": default_id}, located=False)
            else:
                add("config_id_pattern", loc, value, {})
        elif typ == "string_pattern_mismatch":
            add("config_pattern", loc, value, {})
        elif typ.startswith(("date_", "datetime_")):
            add("config_date", loc, value, {})
        elif typ in ("value_error", "assertion_error"):
            detail = str(ctx.get("error", e["msg"])).removeprefix("Value error, ").removeprefix("Assertion failed, ")
            add("config_invalid", loc, value, {"detail": detail})
        elif typ in _TYPE_CODES:
            code = _TYPE_CODES[typ]
            if value is None and code in ("config_text", "config_list", "config_mapping", "config_int", "config_number"):
                code = "config_empty"
            params = {"expected": str(ctx.get("expected", "")).replace("'", "").replace(" or ", ", "), "limit": ctx.get("ge", ctx.get("gt", ctx.get("le", ctx.get("lt", ""))))}
            add(code, loc, value, params)
        else:
            from .validate import MESSAGES

            if typ in MESSAGES:
                add(typ, loc, value, dict(ctx))
            else:
                add("config_invalid", loc, value, {"detail": e["msg"]})
    return sorted(out, key=lambda p: p.row or 0)  # in the order of the file


_NUMERIC_KEYS = ("id", "fiscal_year", "min_group_size", "comment_min_group_size", "language", "data_date")


def load_config(folder: Path | str) -> MunicipalityConfig:
    """Read and check ``municipality.yaml`` in a municipality folder."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError([Problem(file=str(folder), code="folder_missing", params={"value": str(folder.resolve())})])
    path = folder / "municipality.yaml"
    raw, node = read_yaml_located(path)
    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        raise InputError([Problem(file=path.name, code="yaml_not_mapping")])
    language = raw.get("language") if raw.get("language") in ("ja", "en") else "ja"
    for k in _NUMERIC_KEYS:  # ２０２５ → 2025, as CSV cells are normalised
        if isinstance(raw.get(k), str):
            raw[k] = _nfkc(raw[k])
    default_id = None
    if raw.get("id") is None:
        raw["id"] = default_id = folder.resolve().name.lower() if folder.name in ("", ".") else folder.name.lower()
    try:
        cfg = MunicipalityConfig.model_validate(raw)
    except ValidationError as err:
        raise InputError(_pydantic_problems(err, path.name, node=node, model=MunicipalityConfig, default_id=default_id), language) from None
    cfg.folder = folder
    return cfg


def load_codebook(path: Path, language: str = "ja") -> Codebook:
    """Read and check ``codebook.yaml``."""
    path = Path(path)
    try:
        raw, node = read_yaml_located(path)
    except InputError as err:
        raise InputError(err.problems, language) from None
    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        raise InputError([Problem(file=path.name, code="yaml_not_mapping")], language)
    # YAML 1.1 reads an unquoted `yes:` / `no:` key as True / False; accept both spellings.
    for section in (raw.get("tools"), raw.get("training")):
        if isinstance(section, dict):
            for flag, key in ((True, "yes"), (False, "no")):
                if flag in section:
                    section[key] = section.pop(flag)
    try:
        return Codebook.model_validate(raw)
    except ValidationError as err:
        raise InputError(_pydantic_problems(err, path.name, node=node, model=Codebook), language) from None


# --------------------------------------------------------------------------- finding inputs
def instrument_groups(item_ids: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """Municipalities grouped by instrument (the same *set* of item ids).

    Lives here, not in :mod:`dxanalysis.compare`, so that the runner decides on the
    comparison without importing pandas and scipy (an unchanged re-run stays light).

    Parameters
    ----------
    item_ids
        ``{municipality id: item ids of its codebook}``.

    Returns
    -------
    list of list of str
        Groups of municipality ids (each sorted), largest group first; ties broken by
        the first id. Item order does not matter; a municipality with one item more or
        less is a different instrument.
    """
    groups: dict[frozenset, list[str]] = {}
    for mid, items in item_ids.items():
        groups.setdefault(frozenset(items), []).append(mid)
    return sorted((sorted(g) for g in groups.values()), key=lambda g: (-len(g), g))


def municipality_folders(paths: Iterable[Path | str]) -> list[Path]:
    """A municipality folder, or a folder of them (each with municipality.yaml), in order given."""
    out: list[Path] = []
    for p in map(Path, paths):
        if (p / "municipality.yaml").exists():
            out.append(p)
        elif p.is_dir():
            out.extend(sorted(q for q in p.iterdir() if (q / "municipality.yaml").exists()))
    seen, unique = set(), []
    for p in out:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique


ITEM_BANK = RESOURCES_DIR / "item_bank.yaml"


def load_item_bank(path: Path | str | None = None) -> dict:
    """The item bank as a dict (``scales``, ``constructs``, ``statements``, ``tools``, ``attributes``, ``multi_select``, ``free_text``)."""
    with open(path or ITEM_BANK, encoding="utf-8") as f:
        return yaml.safe_load(f)
#: The file in a report folder that names the municipality the folder belongs to.
REPORT_OWNER_FILE = Path("private") / "municipality_id.txt"


def report_dir_owner(report_dir: Path | str) -> str | None:
    """The municipality id a report folder belongs to (its owner file, else its manifest), or None."""
    import json

    report_dir = Path(report_dir)
    owner = report_dir / REPORT_OWNER_FILE
    if owner.exists():
        return owner.read_text(encoding="utf-8").strip() or None
    manifest = report_dir / "manifest.json"
    if manifest.exists():
        try:
            return json.loads(manifest.read_text(encoding="utf-8")).get("municipality") or None
        except (ValueError, AttributeError):
            return None
    return None


def resolve_report_dir(m, report_dir: Path | str | None = "") -> Path:
    """The report folder of municipality ``m`` for a notebook's ``report_dir`` parameter.

    * Empty (the notebooks' default): ``../reports/<id>/`` beside the notebooks, so changing
      only ``data_dir`` never writes into another town's folder.
    * A folder that belongs to another municipality (its ``private/municipality_id.txt`` or
      ``manifest.json`` names another id) is refused with an :class:`InputError`: a run would
      silently mix two towns' tables.
    * Otherwise the folder is used as given (a new folder, a test's temporary folder, the
      runner's scratch folder) and marked as ``m``'s.
    """
    mid = m.config.id if hasattr(m, "config") else str(m)
    if report_dir is None or not str(report_dir).strip():
        path = Path("..") / "reports" / mid
    else:
        path = Path(report_dir)
    owner = report_dir_owner(path)
    if owner is not None and owner != mid:
        raise InputError([Problem(file=str(path), code="report_dir_other_municipality", value=str(path), params={"owner": owner, "id": mid})],
                         language=getattr(m, "language", "ja"))
    marker = path / REPORT_OWNER_FILE
    marker.parent.mkdir(parents=True, exist_ok=True)
    if not marker.exists():
        marker.write_text(mid + "\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------- the package's own hash
#: Files whose content makes up the package hash (code and bundled settings).
PACKAGE_SOURCE_SUFFIXES = (".py", ".yaml")
_PACKAGE_HASH: str | None = None


def package_hash(package_dir: Path = PACKAGE_DIR) -> str:
    """``dxanalysis`` version plus the SHA-256 of every ``.py``/``.yaml`` file of the package.

    Any edit to the package (a statistic, a plot, a message) re-runs every notebook; a
    version bump alone does too.
    """
    global _PACKAGE_HASH
    if _PACKAGE_HASH is not None and package_dir == PACKAGE_DIR:
        return _PACKAGE_HASH
    h = hashlib.sha256(f"dxanalysis {__version__}\n".encode())
    for p in sorted(package_dir.rglob("*")):
        if p.suffix in PACKAGE_SOURCE_SUFFIXES and p.is_file() and "__pycache__" not in p.parts:
            h.update(p.relative_to(package_dir).as_posix().encode() + b"\0")
            h.update(p.read_bytes() + b"\0")
    out = h.hexdigest()
    if package_dir == PACKAGE_DIR:
        _PACKAGE_HASH = out
    return out
