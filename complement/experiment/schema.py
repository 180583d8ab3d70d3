"""The experiment file (``complement.toml``): its schema, validated on load with errors that name
the key and the allowed values, and ``--set key.path=value`` overrides.

```toml
[dataset]                 # what `complement init` writes; kind = synthetic | movielens | recbole | amazon2023 | generic
[split]                   # method = random | loo | temporal, ratios, seed
[[view]]                  # name + exactly one of: embed (a sentence-transformers model, "default" = MiniLM),
                          #   model (a trainable model: lightgcn, mf, semantic, alpharec, pop, random, fusion, ...),
                          #   from (a Parquet/.npy file of precomputed vectors); other keys are that step's options
[[fusion]]                # name, views = [A, B] (ranker: two or more), method = score | rrf | concat | gate |
                          #   ranker | cca, options
[diagnostics]             # names, k = [5, 10, 20], pairs = [[A, B], ...], neighbors_k
[[probe]]                 # source, target, protocol = ours | paper, mappers, shifts, seeds
[run]                     # device, seeds (repeat the stochastic steps)
```

A table's keys beyond the names above are its step's options as declared in ``complement.steps.options``
(a trained view's also its model's hyperparameters); choices are checked against ``complement.choices``.
"""

from __future__ import annotations

import copy
import re
import tomllib
from pathlib import Path
from typing import Any

from ..checks import SEED_MAX, ascii_digits, file_problem, integer, train_overrides
from ..checks import seed as check_seed
from ..choices import (
    LIST_FUSION_METHODS,
    VECTOR_FUSION_METHODS,
    FuseMethod,
    ModelName,
    check_choice,
    fits_unsuited,
    fold_in_unsuited,
    fusion_views_wanted,
    options_unsuited,
)
from ..data.generic import absolute
from ..errors import ConfigError, did_you_mean, unknown_name
from ..steps.options import STEP_OPTIONS, DiagnosticsOptions, FuseOptions, ProbeOptions, RunOptions, TrainOptions
from ..tables import VIEW_NAME, reserved
from .plan import TEXT_MODELS

TOP_LEVEL = ("dataset", "split", "view", "fusion", "diagnostics", "probe", "run")
VIEW_SOURCES = ("embed", "model", "from")
# Each table's keys are its step's declared options (complement.steps.options) plus the keys that
# name what the step reads and writes:
EMBED_NAMES = ("name", "embed")  # embed = the model (EmbedOptions.model), "default" = MiniLM
IMPORT_NAMES = ("name", "from")
TRAIN_NAMES = ("name", "model")
FUSION_NAMES = ("name", "views", "method")
PROBE_NAMES = ("source", "target")


def _train_keys(model: str) -> tuple[str, ...]:
    """A trained view's keys: TrainOptions and the model's hyperparameters (its config class's fields)."""
    from dataclasses import fields

    from ..embed.models import TrainConfig, model_class

    config = getattr(model_class(model), "config_class", TrainConfig)
    hyper = tuple(f.name for f in fields(config) if f.name not in TrainOptions.keys())
    return (*TrainOptions.keys(), *hyper)


def _check_options(where: str, table: dict, step: str, names: tuple[str, ...]) -> None:
    """The table's options against the declaration of ``step``'s options (keys, choices, bounds); the
    table itself is left as written (its contents are the step's content key)."""
    STEP_OPTIONS[step].from_mapping({k: v for k, v in table.items() if k not in names}, where, ignore=names)


def _check_keys(where: str, table: dict, allowed: tuple[str, ...]) -> None:
    for key in table:
        if key not in allowed:
            raise ConfigError(f"{where}: {unknown_name('key', key, allowed)}")


def _expect(where: str, value: Any, kinds: tuple[type, ...], what: str) -> Any:
    if isinstance(value, bool) and bool not in kinds:
        raise ConfigError(f"{where} must be {what}, not {value!r}")
    if not isinstance(value, kinds):
        raise ConfigError(f"{where} must be {what}, not {value!r}")
    return value


def _view_name(where: str, value: Any) -> str:
    """The name of a view the experiment declares (it writes it): valid, and outside the reserved prefix."""
    _expect(where, value, (str,), "a view name (a string)")
    if not VIEW_NAME.match(value):
        raise ConfigError(
            f"{where} = {value!r} is not a valid view name: use 1 to 100 lower-case letters, digits, '_' and '-'"
        )
    if (why := reserved(value)) is not None:
        raise ConfigError(f"{where} = {value!r}: {why}")
    return value


def validate(config: dict[str, Any], source: str = "complement.toml") -> dict[str, Any]:
    """Check ``config`` against the schema; return it with defaults filled in."""
    from ..data.loaders import check_settings
    from ..diagnostics.headers import list_diagnostics

    config = copy.deepcopy(config)
    _check_keys(source, config, TOP_LEVEL)
    if "dataset" not in config:
        raise ConfigError(f"{source}: missing [dataset] table (run `complement init` or see examples/)")
    _expect(f"{source}: [dataset]", config["dataset"], (dict,), "a table")
    _expect(f"{source}: [dataset].kind", config["dataset"].get("kind"), (str,), "a dataset kind")
    split = _expect(f"{source}: [split]", config.setdefault("split", {}), (dict,), "a table")
    _check_options(f"{source}: [split]", split, "split", ())
    check_settings({"dataset": config["dataset"], "split": split}, source)  # as ingest will, before any write
    run = _expect(f"{source}: [run]", config.setdefault("run", {}), (dict,), "a table")
    _check_options(f"{source}: [run]", run, "run", ())
    run.setdefault("device", str(RunOptions.device))
    run.setdefault("seeds", list(RunOptions.seeds))
    for seed in run["seeds"]:
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= SEED_MAX:
            raise ConfigError(
                f"{source}: [run].seeds must be a list of integers from 0 to {SEED_MAX}, not {run['seeds']!r}"
            )
    if len(set(run["seeds"])) < len(run["seeds"]):
        raise ConfigError(f"{source}: [run].seeds names a seed twice: {run['seeds']!r}")

    names: list[str] = []
    views = _expect(f"{source}: [[view]]", config.setdefault("view", []), (list,), "an array of tables")
    for i, view in enumerate(views):
        where = f"{source}: view[{i}]"
        _expect(where, view, (dict,), "a table")
        name = _view_name(f"{where}.name", view.get("name"))
        where = f"{source}: view '{name}'"
        given = [key for key in VIEW_SOURCES if key in view]
        if len(given) != 1:
            raise ConfigError(f"{where}: give exactly one of embed, model, from (found: {', '.join(given) or 'none'})")
        _expect(f"{where}.{given[0]}", view[given[0]], (str,), "a string")
        for key in VIEW_PATH_KEYS if "from" in view else ():  # the files an import reads are there
            if key in view and (problem := file_problem(_expect(f"{where}.{key}", view[key], (str,), "a file path"))):
                raise ConfigError(f"{where}.{key}: file {view[key]} {problem}")
        if "embed" in view:
            _check_keys(where, view, (*EMBED_NAMES, *(k for k in STEP_OPTIONS["embed"].keys() if k != "model")))
            _check_options(where, view, "embed", EMBED_NAMES)
        elif "from" in view:
            _check_options(where, view, "import", IMPORT_NAMES)
            if "user_from" not in view and (lists := [key for key in ("k", "exclude") if key in view]):
                raise ConfigError(f"{where}.{lists[0]}: only a view imported with user_from has top-K lists")
        else:
            model = check_choice(ModelName, view["model"], f"{where}.model", "model")
            _check_keys(where, view, (*TRAIN_NAMES, *_train_keys(model)))
            _check_options(where, {k: v for k, v in view.items() if k in TrainOptions.keys()}, "train", ())
            # the model's hyperparameters, by the rules `complement train` applies (before anything runs)
            train_overrides({k: v for k, v in view.items() if k not in (*TRAIN_NAMES, *TrainOptions.keys())}, where)
        if name in names:
            raise ConfigError(f"{where}: the view name is declared twice")
        names.append(name)

    fusions = _expect(f"{source}: [[fusion]]", config.setdefault("fusion", []), (list,), "an array of tables")
    for i, fusion in enumerate(fusions):
        _expect(f"{source}: fusion[{i}]", fusion, (dict,), "a table")
        name = _view_name(f"{source}: fusion[{i}].name", fusion.get("name"))
        where = f"{source}: fusion '{name}'"
        _check_options(where, fusion, "fuse", FUSION_NAMES)
        method = check_choice(FuseMethod, fusion.get("method"), f"{where}.method", "fusion method").value
        pair = _expect(f"{where}.views", fusion.get("views"), (list,), "a list of two view names")
        if wanted := fusion_views_wanted(method, [str(v) for v in pair]):
            raise ConfigError(f"{where}.views must name {wanted}, not {pair!r}")
        if problem := fits_unsuited(method, fusion.get("fits", 1)):
            raise ConfigError(f"{where}: {problem}")
        if unsuited := options_unsuited(method, FuseOptions.changed(fusion)):
            raise ConfigError(f"{where}.{unsuited[0]} = {fusion[unsuited[0]]!r} {unsuited[1]}")
        if problem := fold_in_unsuited(fusion.get("fold_in", False), fusion.get("exclude", FuseOptions.exclude)):
            raise ConfigError(f"{where}.fold_in = true {problem}")
        for v in pair:
            if v not in names:
                raise ConfigError(f"{where}.views: {_undeclared(v, names)}")
        if name in names:
            raise ConfigError(f"{where}: the view name is declared twice")
        names.append(name)

    diagnostics = _expect(f"{source}: [diagnostics]", config.setdefault("diagnostics", {}), (dict,), "a table")
    _check_keys(f"{source}: [diagnostics]", diagnostics, DiagnosticsOptions.keys())
    known = {d.name: d for d in list_diagnostics()}
    diagnostics.setdefault("names", [n for n, d in known.items() if not d.is_check and n not in ("probe_summary",)])
    for n in _expect(f"{source}: [diagnostics].names", diagnostics["names"], (list,), "a list of diagnostic names"):
        _expect(f"{source}: [diagnostics].names", n, (str,), "a list of diagnostic names (strings)")
        if n not in known:
            raise ConfigError(f"{source}: [diagnostics].names: {unknown_name('diagnostic', n, known)}")
    diagnostics.setdefault("k", list(DiagnosticsOptions.k))
    for k in _expect(f"{source}: [diagnostics].k", diagnostics["k"], (list,), "a list of integers"):
        if _expect(f"{source}: [diagnostics].k", k, (int,), "a list of positive integers") < 1:
            raise ConfigError(
                f"{source}: [diagnostics].k must be a list of positive integers, not {diagnostics['k']!r}"
            )
    diagnostics.setdefault("pairs", list(DiagnosticsOptions.pairs))
    diagnostics.setdefault("neighbors_k", DiagnosticsOptions.neighbors_k)
    integer(f"{source}: [diagnostics].neighbors_k", diagnostics["neighbors_k"], minimum=1)
    for pair in diagnostics["pairs"]:
        if not isinstance(pair, list) or len(pair) != 2:
            raise ConfigError(f"{source}: [diagnostics].pairs entries must be [view_a, view_b], not {pair!r}")
        for v in pair:
            if v not in names:
                raise ConfigError(f"{source}: [diagnostics].pairs: {_undeclared(v, names)}")

    probes = _expect(f"{source}: [[probe]]", config.setdefault("probe", []), (list,), "an array of tables")
    truth_views = ("truth_semantic", "truth_collab")
    for i, probe in enumerate(probes):
        where = f"{source}: probe[{i}]"
        _expect(where, probe, (dict,), "a table")
        _check_options(where, probe, "probe", PROBE_NAMES)
        check_seed(f"{where}.seed", probe.get("seed", ProbeOptions.seed), count=probe.get("seeds", ProbeOptions.seeds))
        for key in ("source", "target"):
            v = probe.get(key)
            if v not in names and not (config["dataset"].get("kind") == "synthetic" and v in truth_views):
                raise ConfigError(f"{where}.{key}: {_undeclared(v, names)}")
        if probe.get("source") == probe.get("target"):
            raise ConfigError(
                f"{where}: source and target must be two different views, not '{probe.get('source')}' twice"
            )

    # the diagnostics read every list to its longest k: a shorter list would fail them after the training
    longest = max(diagnostics["k"], default=0)
    for where, k in list_lengths(config):
        if isinstance(k, int) and k < longest:
            raise ConfigError(
                f"{source}: {where}.k = {k} is shorter than the longest [diagnostics].k ({longest}); "
                f"raise it or lower [diagnostics].k"
            )
    # item_agreement reads the neighbour lists to the longest k too: shorter ones would fail it after the training
    if "item_agreement" in diagnostics["names"] and diagnostics["pairs"] and diagnostics["neighbors_k"] < longest:
        raise ConfigError(
            f"{source}: [diagnostics].neighbors_k = {diagnostics['neighbors_k']} is shorter than the longest "
            f"[diagnostics].k ({longest}), which item_agreement reads; raise it or lower [diagnostics].k"
        )
    _check_list_views(config, source)
    if config["dataset"].get("kind") == "synthetic":  # the generator's item count bounds the catalogue
        from ..data.synth import SynthConfig

        n_items = SynthConfig.from_dict(config["dataset"]).items
        check_catalogue(config, n_items, f"[dataset].items = {n_items}", source)
    return config


def list_lengths(config: dict[str, Any]) -> list[tuple[str, object]]:
    """``(where, k)`` of every list a validated experiment writes: each trained view's, each imported view's with
    user vectors (its lists are scored from them) and each fusion's."""
    trained = [
        (f"view '{v['name']}'", v.get("k", TrainOptions.k))
        for v in config["view"]
        if "model" in v or ("from" in v and "user_from" in v)
    ]
    return [*trained, *((f"fusion '{f['name']}'", f.get("k", FuseOptions.k)) for f in config["fusion"])]


def check_catalogue(config: dict[str, Any], n_items: int, known: str, source: str) -> None:
    """Refuse a list longer than a catalogue of ``n_items`` items, a neighbour list or probe k longer than
    the other items (``known`` says where the count comes from), before the run writes anything."""
    for where, k in list_lengths(config):
        if isinstance(k, int) and k > n_items:
            raise ConfigError(
                f"{source}: {where}.k = {k} is larger than the catalogue ({known}); set it to {n_items} or less"
            )
    diagnostics = config["diagnostics"]
    bounded = [(f"probe[{i}].k", p.get("k", ProbeOptions.k)) for i, p in enumerate(config["probe"])]
    if "item_agreement" in diagnostics["names"] and diagnostics["pairs"]:
        bounded.append(("[diagnostics].neighbors_k", diagnostics["neighbors_k"]))
    for where, k in bounded:
        if isinstance(k, int) and k > n_items - 1:
            raise ConfigError(
                f"{source}: {where} = {k} is larger than the other items of the catalogue ({known}); "
                f"set it to {n_items - 1} or less"
            )


def _check_list_views(config: dict[str, Any], source: str) -> None:
    """Refuse a list view (a fusion that writes lists only) named where a step reads vectors: a vector
    fusion's views, a probe's source or target, item_agreement's pairs, a text model's text_view."""
    lists = {f["name"]: f["method"] for f in config["fusion"] if f["method"] not in VECTOR_FUSION_METHODS}

    def refuse(where: str, name: str, why: str) -> None:
        raise ConfigError(
            f"{source}: {where}: view '{name}' is a list view (fusion '{name}' with method {lists[name]} writes "
            f"top-K lists, no vectors): {why}"
        )

    for fusion in config["fusion"]:
        if fusion["method"] not in LIST_FUSION_METHODS:
            for v in fusion["views"]:
                if v in lists:
                    refuse(
                        f"fusion '{fusion['name']}'.views",
                        v,
                        f"method {fusion['method']} reads the views' vectors; "
                        f"{' and '.join(LIST_FUSION_METHODS)} fuse list views by their lists",
                    )
    for i, probe in enumerate(config["probe"]):
        for key in ("source", "target"):
            if probe.get(key) in lists:
                refuse(f"probe[{i}].{key}", probe[key], "a probe maps item vectors")
    diagnostics = config["diagnostics"]
    if "item_agreement" in diagnostics["names"]:
        for pair in diagnostics["pairs"]:
            for v in pair:
                if v in lists:
                    refuse(
                        "[diagnostics].pairs",
                        v,
                        "item_agreement compares the item neighbours of the pair's views, found from item vectors; "
                        "pair views with vectors or leave item_agreement out of [diagnostics].names",
                    )
    for view in config["view"]:
        if view.get("model") in TEXT_MODELS and view.get("text_view") in lists:
            refuse(f"view '{view['name']}'.text_view", view["text_view"], f"{view['model']} reads its item vectors")


def set_override(config: dict[str, Any], assignment: str) -> None:
    """Apply ``key.path=value`` (value parsed as TOML, else taken as a string)."""
    if "=" not in assignment:
        raise ConfigError(f"--set takes KEY=VALUE (e.g. split.seed=7), not '{assignment}'")
    key, raw = assignment.split("=", 1)
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    if _has_number(value) and _NOT_PLAIN.search(_STRINGS.sub("", raw)):
        # TOML reads 1_000 and 0x10 as numbers; on the command line a number is plain decimal digits, as every
        # numeric option's is (cli.options.number_parser)
        raise ConfigError(f"--set {key.strip()}: write numbers in plain decimal digits, not '{raw}'")
    parts = key.strip().split(".")
    node: Any = config
    held = ""
    for part in parts[:-1]:
        if isinstance(node, list):
            node = _list_entry(node, part, key)
        elif isinstance(node, dict):
            node = node.setdefault(part, {})
        else:
            break
        held = part
    last = parts[-1]
    if not isinstance(node, (dict, list)):
        raise ConfigError(f"--set {key}: '{held}' holds a value ({node!r}), not a table to set a key in")
    if isinstance(node, list):
        raise ConfigError(f"--set {key}: name a key inside the entry, e.g. view.lightgcn.epochs=100")
    node[last] = value


#: quoted TOML strings (left out when looking for numbers), and what makes a number not plain decimal digits
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"|\'[^\']*\'')
_NOT_PLAIN = re.compile(r"[0-9]_[0-9]|(?<![\w.-])[+-]?0[xob][0-9a-f]", re.IGNORECASE)


def _undeclared(view: object, names: list[str]) -> str:
    """The message for a view an entry names that no [[view]] or [[fusion]] declares (with the closest name)."""
    hint = did_you_mean(view, names) if isinstance(view, str) else ""
    return f"view '{view}' is not declared{hint} (declared: {', '.join(names) or 'none'})"


def _has_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    if isinstance(value, list):
        return any(_has_number(v) for v in value)
    if isinstance(value, dict):
        return any(_has_number(v) for v in value.values())
    return False


def _list_entry(entries: list, name: str, key: str) -> dict:
    """``view.lightgcn`` picks the [[view]] whose name is lightgcn; ``probe.0`` the first [[probe]]."""
    for entry in entries:
        if isinstance(entry, dict) and entry.get("name") == name:
            return entry
    if ascii_digits(name) and int(name) < len(entries):
        return entries[int(name)]
    names = [str(entry["name"]) for entry in entries if isinstance(entry, dict) and "name" in entry]
    listed = f" (entries: {', '.join(names)})" if names else ""
    raise ConfigError(f"--set {key}: no entry named '{name}'{did_you_mean(name, names)}{listed}")


def load(path: str | Path, overrides: list[str] | None = None) -> dict[str, Any]:
    """Read, override and validate an experiment file. Relative data paths resolve against its folder."""
    path = Path(path)
    if (problem := file_problem(path)) is not None:
        raise ConfigError(f"experiment file {path} {problem}")
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8") from None
    _resolve_data_path(config, path.parent)  # a path written in the file is relative to the file
    for assignment in overrides or []:
        set_override(config, assignment)
    _resolve_data_path(config, Path.cwd())  # a path given with --set is relative to where you are
    return validate(config, source=path.name)


#: keys whose values are file paths: relative ones resolve against the experiment file's folder
DATASET_PATH_KEYS = ("path", "items")
VIEW_PATH_KEYS = ("from", "ids", "user_from", "user_ids")


def _resolve_data_path(config: dict[str, Any], base: Path) -> None:
    def resolve(table: Any, keys: tuple[str, ...]) -> None:
        if not isinstance(table, dict):
            return
        for key in keys:
            if isinstance(table.get(key), str) and table[key]:
                value = Path(table[key]).expanduser()  # kept expanded: every reader then names the same file
                table[key] = str(value if value.is_absolute() else absolute(base / value))

    resolve(config.get("dataset", {}), DATASET_PATH_KEYS)
    views = config.get("view", [])
    for view in views if isinstance(views, list) else []:
        resolve(view, VIEW_PATH_KEYS)
