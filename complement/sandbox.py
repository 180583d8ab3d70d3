"""A DuckDB connection in which user SQL cannot write anything, whatever the statement.

User SQL (``complement sql`` and diagnostic ``.sql`` files given by path) runs here. The safety
does not rest on a list of statement types: the connection is in memory, each workspace table is
a pyarrow dataset registered under its name (read by pyarrow, not by DuckDB's file system), and
then DuckDB's file system is switched off and its configuration locked::

    SET enable_external_access = false      -- no COPY / EXPORT / ATTACH of files / read_* / glob
    SET autoinstall_known_extensions = false
    SET autoload_known_extensions = false
    SET lock_configuration = true           -- no SET / RESET / PRAGMA that changes a setting

What a statement can still create (a temporary table, a macro) lives in the in-memory database
and is gone when the connection closes. :func:`complement.db.check_read_only` is a second guard
in front of this one, with a clearer message.

Besides the tables, each result file ``complement run`` stored in ``<workspace>/results/NAME.parquet``
is registered as the table ``results_NAME``."""

from __future__ import annotations

import os
import re
import select
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from . import catalog, keys, tables
from .db import apply_settings, check_files_there
from .errors import ComplementError, ConfigError
from .outputs import RESULTS_DIR

if TYPE_CHECKING:
    from .workspace import Workspace

RESULTS_PREFIX = "results_"
# the files of a table whose integer keys are filled at read time (complement.keys), under the view of its name
RAW_PREFIX = "raw_"
_LOCKDOWN = (
    "SET enable_external_access = false",
    "SET autoinstall_known_extensions = false",
    "SET autoload_known_extensions = false",
    "SET lock_configuration = true",
)
_RESULT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _dataset(files: list[Path]):
    """A pyarrow dataset over ``files``; the schema is unified so parts written by different
    versions (a column added later) read as one table, like DuckDB's ``union_by_name``."""
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    paths = [str(f) for f in files]
    schema = pa.unify_schemas([pq.read_schema(p) for p in paths], promote_options="permissive")
    return ds.dataset(paths, schema=schema, format="parquet")


def result_tables(workspace: Workspace) -> dict[str, Path]:
    """``results_NAME`` -> ``<workspace>/results/NAME.parquet`` for each stored diagnostics result."""
    folder = workspace.root / RESULTS_DIR
    if not folder.is_dir():
        return {}
    found = {}
    for path in sorted(folder.glob("*.parquet")):
        if _RESULT_NAME.match(path.stem) and path.is_file():
            found[RESULTS_PREFIX + path.stem] = path
    return found


def open_sandbox(
    workspace: Workspace, setup: Callable[[duckdb.DuckDBPyConnection], None] | None = None
) -> duckdb.DuckDBPyConnection:
    """An in-memory connection that sees the workspace tables (and ``results_*``) and can write nothing.

    ``setup`` runs before the lock-down, e.g. to create the diagnostics' shared macros."""
    con = duckdb.connect(":memory:")
    # its datasets name the files of the catalog read now: keep them on disk while the connection lives
    catalog.reader_for(con, workspace.tables_dir)
    try:
        con.execute("SET enable_progress_bar = false")  # DuckDB's bar would mix with data on stdout
        # Without this DuckDB resolves an unknown table name to a Python variable of the caller.
        con.execute("SET python_enable_replacements = false")
        apply_settings(con)
        sources = {name: workspace.table_files(name) for name in tables.TABLE_NAMES}
        check_files_there(workspace, {name: files for name, files in sources.items() if files})
        sources.update({name: [path] for name, path in result_tables(workspace).items()})
        plan = keys.incomplete_keys({name: files for name, files in sources.items() if name in tables.INDEX_KEYS})
        raw = {name: RAW_PREFIX + name for name in tables.TABLE_NAMES if sources[name]} if plan else {}
        columns = {name: keys.columns_of(sources[name]) for name in raw}
        for name, files in sources.items():
            if not files:
                continue
            try:
                dataset = _dataset(files)
            except pa.ArrowException as exc:  # a damaged or foreign file: name it, no traceback
                raise ComplementError(
                    f"cannot read table {name} ({', '.join(map(str, files))}): {first_line(exc)}"
                ) from None
            # a legacy table without complete integer keys: read through the SELECT that fills them
            con.register(raw.get(name, name), dataset)
        for name in raw:
            select = keys.keyed_select(name, raw, columns, plan[name]) if name in plan else f"SELECT * FROM {raw[name]}"
            con.execute(f"CREATE VIEW {name} AS {select}")
        if setup is not None:
            setup(con)
        for statement in _LOCKDOWN:
            con.execute(statement)
    except BaseException:
        con.close()
        raise
    return con


@contextmanager
def interruptible(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Make Ctrl-C stop a query of ``con`` while DuckDB computes.

    Python runs its SIGINT handler only between bytecodes, never while DuckDB holds the main thread,
    so Ctrl-C alone would wait for the query to finish. The interpreter does write each signal's
    number to a wake-up file descriptor at once; a helper thread watches it and interrupts the
    query, after which the pending KeyboardInterrupt is raised as usual. Outside the main thread
    (where signals cannot be watched) this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    read_end, write_end = os.pipe()
    stop_read, stop_write = os.pipe()
    os.set_blocking(write_end, False)
    try:
        previous = signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
    except ValueError:
        for fd in (read_end, write_end, stop_read, stop_write):
            os.close(fd)
        yield
        return

    def watch() -> None:
        while True:
            ready, _, _ = select.select([read_end, stop_read], [], [])
            if stop_read in ready:
                return
            if signal.SIGINT in os.read(read_end, 64):
                con.interrupt()

    watcher = threading.Thread(target=watch, name="complement-sigint", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        signal.set_wakeup_fd(previous)
        os.write(stop_write, b"x")
        watcher.join()
        for fd in (read_end, write_end, stop_read, stop_write):
            os.close(fd)


def is_interruption(exc: BaseException) -> bool:
    """Whether ``exc`` is DuckDB reporting an interrupted query (its form depends on where the
    query was when interrupted: a DuckDB error, an Arrow stream error, or a RuntimeError)."""
    return isinstance(exc, duckdb.InterruptException) or "interrupt" in str(exc)[:60].lower()


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


#: the longest ``--timeout`` accepted, in seconds (7 days): ``threading.Timer`` fails on ``inf`` or anything above
#: ``threading.TIMEOUT_MAX`` (in its thread, so the query would run with no limit), and a week is no limit in practice
TIMEOUT_MAX = 7 * 24 * 3600


def check_timeout(timeout: float | None, option: str = "--timeout") -> float | None:
    """``timeout`` when it is None (no limit) or a number of seconds in (0, TIMEOUT_MAX]; else one-line
    :class:`~complement.errors.ConfigError`."""
    from .checks import finite

    try:
        return finite(option, timeout, above=0.0, maximum=TIMEOUT_MAX)
    except ConfigError:
        given = f"{timeout:g}" if isinstance(timeout, (int, float)) and not isinstance(timeout, bool) else repr(timeout)
        raise ConfigError(
            f"{option} takes a positive number of seconds, at most {TIMEOUT_MAX} (7 days), not {given}"
        ) from None


class Query:
    """A running query's result as Arrow record batches, with an optional time limit.

    Iterate it for the batches; ``timeout`` seconds after it starts, the query is interrupted and
    iteration raises ``Error: query exceeded --timeout N s``. An interrupt that is not ours
    (Ctrl-C) becomes ``KeyboardInterrupt``."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        timeout: float | None = None,
        describe: Callable[[BaseException], str] | None = None,
    ):
        self.con = con
        self.timeout = check_timeout(timeout)
        self.timed_out = False
        self._describe = describe or (lambda exc: f"SQL error: {first_line(exc)}")
        self._timer: threading.Timer | None = None

    def __enter__(self) -> Query:
        self._interruptible = interruptible(self.con)
        self._interruptible.__enter__()
        if self.timeout is not None:
            self._timer = threading.Timer(self.timeout, self._interrupt)
            self._timer.daemon = True
            self._timer.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._interruptible.__exit__(*exc_info)

    def _interrupt(self) -> None:
        self.timed_out = True
        self.con.interrupt()

    def _fail(self, exc: BaseException) -> BaseException:
        if self.timed_out:
            return ComplementError(f"query exceeded --timeout {self.timeout:g} s")
        if is_interruption(exc):
            return KeyboardInterrupt()
        return ComplementError(self._describe(exc))

    @contextmanager
    def guard(self) -> Iterator[None]:
        """Turn DuckDB (and Arrow stream) errors raised inside the block into one-line errors."""
        try:
            yield
        except (duckdb.Error, pa.ArrowException, OSError, RuntimeError) as exc:
            if isinstance(exc, OSError) and not isinstance(exc, pa.ArrowException) and exc.errno is not None:
                raise  # a real OS error (disk, permissions), not a failed query
            if type(exc) is RuntimeError and not is_interruption(exc):
                raise  # a bug, not a query's failure
            raise self._fail(exc) from None

    def bind(self, sql: str, params: dict[str, Any] | None = None) -> None:
        """Parse and bind a statement without running it (its errors surface, its result is not wanted)."""
        with self.guard():
            self.con.sql(sql, params=params) if params else self.con.sql(sql)

    def batches(
        self, sql: str, params: dict[str, Any] | None = None, rows_per_batch: int = 65536
    ) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
        """The result's schema and an iterator of its record batches, read as they are produced."""
        with self.guard():
            relation = self.con.sql(sql, params=params) if params else self.con.sql(sql)
            if relation is None:  # a statement without a result
                return pa.schema([]), iter(())
            reader = relation.to_arrow_reader(rows_per_batch)

        def read() -> Iterator[pa.RecordBatch]:
            while True:
                with self.guard():
                    try:
                        batch = reader.read_next_batch()
                    except StopIteration:
                        return
                yield batch

        return reader.schema, read()
