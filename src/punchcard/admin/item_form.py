"""The program editor's forms for one earning rule, tier or reward: which inputs they have, reading a submitted
form into the item as the program file writes it, and an item back into the inputs' values.

An input is named by its path inside the item (``then.lines.categories``), so an error ``program apply`` reports
for ``earning_rules.2.then.lines.categories`` lands on it. The forms cover every key the file format has for the
item (tests check it against the schema), so the item is rebuilt from the form alone: clearing an input removes
the key, and the file never keeps a value the form did not show.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from punchcard.admin import form_values as values

Submitted = Mapping[str, Sequence[str]]
"""A form as posted: every input's values (a group of checkboxes has several)."""


@dataclass(frozen=True)
class Input:
    path: str
    label: str
    kind: str = "number"
    """``number``, ``text``, ``texts`` (one per program language), ``list`` (comma-separated), ``flag``
    (a checkbox), ``choice`` (a select), ``choices`` (checkboxes), ``date``."""
    options: tuple[str, ...] = ()
    hint: str = ""
    default: bool = False
    """A flag's value when the file does not say (written only when it differs)."""
    fixed: bool = False
    """Shown but not editable (a code, once its rule or reward exists: history refers to it)."""

    @property
    def id(self) -> str:
        return "i-" + self.path.replace(".", "-")


@dataclass(frozen=True)
class Group:
    title: str
    inputs: tuple[Input, ...]
    hint: str = ""
    key: str = ""
    """What the group stands for in the file (a condition's or benefit's key), when it stands for one."""


@dataclass(frozen=True)
class Rows:
    """Repeated inputs, one row per entry of a list or mapping in the file (a rule's attribute tests, a tier's
    perks): row ``n``'s inputs are named ``<path>.<n>.<column>``."""

    path: str
    title: str
    columns: tuple[Input, ...]
    hint: str = ""


def row_count(submitted: Mapping[str, object], path: str) -> int:
    """How many rows of ``path`` a form has (its inputs are ``path.<n>.<column>``)."""
    rows = [key[len(path) + 1 :].split(".")[0] for key in submitted if key.startswith(path + ".")]
    return max((int(n) + 1 for n in rows if n.isdigit()), default=0)


@dataclass(frozen=True)
class ItemForm:
    """One kind of item's form: its groups, and the steps that read and fill what plain inputs cannot."""

    groups: tuple[Group, ...]
    rows: tuple[Rows, ...] = ()
    read_extra: Callable[[Submitted, dict[str, Any], list[str]], None] = lambda form, item, languages: None
    """Reads what plain inputs cannot (the rows, an action's kind and amount) into the item."""
    fill_extra: Callable[[Mapping[str, Any], dict[str, Any], list[str]], None] = lambda item, filled, languages: None
    locate: Callable[[str, Submitted], str] = lambda path, form: path
    """The input an error about a path in the file belongs to, where the two differ (``then.points`` is typed into
    ``then.amount``)."""

    @property
    def inputs(self) -> list[Input]:
        return [each for group in self.groups for each in group.inputs]


def first(form: Submitted, name: str) -> str:
    return next(iter(form.get(name, ())), "").strip()


def _read(each: Input, form: Submitted, languages: list[str]) -> object:
    if each.kind == "texts":
        return values.texts({key: first(form, key) for key in form}, each.path, languages)
    if each.kind == "choices":
        return [option for option in each.options if option in form.get(each.path, ())] or None
    if each.kind == "flag":
        checked = first(form, each.path) in ("on", "true", "1")
        return checked if checked != each.default else None
    text = first(form, each.path)
    if not text:
        return None
    if each.kind == "list":
        return values.words(text)
    return values.scalar(text) if each.kind == "number" else text


def read(kind: ItemForm, form: Submitted, languages: list[str], *, keep: Mapping[str, Any]) -> dict[str, Any]:
    """The item the form describes; ``keep`` supplies the fixed inputs' values (a code cannot be changed)."""
    item: dict[str, Any] = {}
    for each in kind.inputs:
        value = values.get(keep, each.path) if each.fixed else _read(each, form, languages)
        if value is not None:
            values.put(item, each.path, value)
    kind.read_extra(form, item, languages)
    return item


def fill(kind: ItemForm, item: Mapping[str, Any], languages: list[str]) -> dict[str, Any]:
    """The inputs' values for ``item``: text per input name, a list for a group of checkboxes."""
    filled: dict[str, Any] = {}
    for each in kind.inputs:
        value = values.get(item, each.path)
        if each.kind == "texts":
            filled.update(values.text_inputs(value, each.path, languages))
        elif each.kind == "choices":
            filled[each.path] = [str(option) for option in value or []]
        elif each.kind == "flag":
            filled[each.path] = each.default if value is None else bool(value)
        else:
            filled[each.path] = values.shown(value)
    kind.fill_extra(item, filled, languages)
    return filled


def echoed(kind: ItemForm, form: Submitted, item: Mapping[str, Any]) -> dict[str, Any]:
    """A refused form's values as they were typed, to show again beside the errors (the fixed ones from ``item``)."""
    filled: dict[str, Any] = {key: first(form, key) for key in form}
    for each in kind.inputs:
        if each.fixed:
            filled[each.path] = values.shown(values.get(item, each.path))
        elif each.kind == "choices":
            filled[each.path] = list(form.get(each.path, ()))
        elif each.kind == "flag":
            filled[each.path] = first(form, each.path) in ("on", "true", "1")
    return filled


def input_path(kind: ItemForm, path: str, form: Submitted, known: set[str], languages: list[str]) -> str:
    """The input an error about ``path`` (inside the item) belongs to; ``path`` itself when no input is its own."""
    path = kind.locate(path, form)
    if path not in known and f"{path}.{languages[0]}" in known:
        return f"{path}.{languages[0]}"  # a translated text's error stands on its first language's input
    return path


def names(kind: ItemForm, languages: list[str]) -> set[str]:
    """Every input name of the form (a translated text has one per language)."""
    found = set()
    for each in kind.inputs:
        found |= {f"{each.path}.{language}" for language in languages} if each.kind == "texts" else {each.path}
    return found
