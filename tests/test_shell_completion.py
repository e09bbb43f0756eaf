"""Shell completion in a real bash, driven through tmux: set up as `--install-completion` does
(source the script `metastore --show-completion bash` prints), type a partial query, press Tab,
read the screen.

Needs tmux and bash on PATH (CI: `apt-get install -y tmux`); skipped with the reason otherwise.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    shutil.which("tmux") is None or shutil.which("bash") is None,
    reason="needs tmux and bash (apt-get install -y tmux) to drive a real shell",
)

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[1]
#: The `metastore` script must import the checkout under test, not a package installed from elsewhere.
CODE = {"PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def test_the_script_imports_the_checkout_under_test():
    r = subprocess.run([str(BIN / "python"), "-c", "import metastore; print(metastore.__file__)"],
                       capture_output=True, text=True, env={**os.environ, **CODE})
    assert Path(r.stdout.strip()).resolve().is_relative_to(REPO), r.stdout + r.stderr


@pytest.fixture(scope="module")
def shell(tmp_path_factory):
    from metastore import Catalog

    tmp_path = tmp_path_factory.mktemp("shell")
    csv = tmp_path / "meta.csv"
    rows = ["path,location,weather"]
    rows += [f"img/{i}.jpg,warehouse-{1 + i % 3},{'rain' if i % 2 else 'fog'}" for i in range(30)]
    rows += ["img/dock.jpg,dock-a,rain"]
    csv.write_text("\n".join(rows) + "\n")
    db = tmp_path / "cat.duckdb"
    report = Catalog(db).import_files([csv], types={"weather": "enum"})
    assert report.rows_failed == 0
    old = time.time() - 60  # an older catalog: completion may cache its stats (see store/stats.py)
    os.utime(db, (old, old))
    # Typer finds the shell among the parent processes, as when a user types this in bash (the
    # trailing `true` keeps bash from exec-ing the command, so bash stays its parent even when
    # the test run itself has no shell above it).
    shown = subprocess.run(["bash", "-c", '"$0" --show-completion; true', str(BIN / "metastore")],
                           capture_output=True, text=True, env={**os.environ, **CODE, "METASTORE_DB": str(db)})
    assert shown.returncode == 0, shown.stderr
    script = shown.stdout
    assert "complete" in script and "_METASTORE_COMPLETE" in script
    (tmp_path / "metastore.sh").write_text(script + "\n")
    socket = f"ms-test-{uuid.uuid4().hex[:8]}"
    env = {"PATH": f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}", "HOME": str(tmp_path),
           "METASTORE_DB": str(db), "XDG_CACHE_HOME": str(tmp_path / "cache"), "INPUTRC": "/dev/null",
           "TERM": "xterm", "LANG": "C.UTF-8", "PS1": "$ ", **CODE}
    cmd = ["tmux", "-L", socket, "-f", "/dev/null", "new-session", "-d", "-s", "t", "-x", "200", "-y", "40",
           "env", "-i"] + [f"{k}={v}" for k, v in env.items()] + ["bash", "--norc", "--noprofile", "-i"]
    subprocess.run(cmd, check=True)

    class Shell:
        def send(self, *keys: str) -> None:
            subprocess.run(["tmux", "-L", socket, "send-keys", "-t", "t", *keys], check=True)

        def screen(self) -> str:
            return subprocess.run(["tmux", "-L", socket, "capture-pane", "-p", "-t", "t"], check=True,
                                  capture_output=True, text=True).stdout

        def wait_until(self, ok, what: str, timeout: float = 20.0) -> str:
            deadline = time.monotonic() + timeout  # a generous bound on a hang, not a speed test
            while True:
                screen = self.screen()
                if ok(screen):
                    return screen
                if time.monotonic() > deadline:
                    raise AssertionError(f"{what} not on the screen:\n{screen}")
                time.sleep(0.05)

        def wait_for(self, text: str) -> str:
            return self.wait_until(lambda screen: text in screen, repr(text))

    sh = Shell()
    sh.send(f"source {tmp_path / 'metastore.sh'}; complete -p metastore; echo READY$((40 + 2))", "Enter")
    sh.wait_for("READY42")  # printed only once the script is sourced (the typed line shows READY$((…)))
    assert "_metastore_completion metastore" in sh.screen()
    try:
        yield sh
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], check=False)


@pytest.fixture(autouse=True)
def _fresh_line(shell):
    shell.send("C-e", "C-u")  # discard what a previous test left on the line (no signal)
    shell.send("clear", "Enter")
    shell.wait_until(lambda screen: screen.strip() == "$", "an empty prompt")


def test_tab_completes_a_value_inside_quotes(shell):
    shell.send("metastore search 'location:wa", "Tab")
    shell.wait_for("metastore search 'location:warehouse-")
    shell.send("Tab", "Tab")  # Tab twice more lists the candidates
    screen = shell.wait_for("location:warehouse-3")
    assert "location:warehouse-1" in screen and "location:warehouse-2" in screen
    assert "dock-a" not in screen


def test_tab_completes_a_unique_value_and_closes_the_quote(shell):
    shell.send("metastore count 'location:do", "Tab")
    shell.wait_for("metastore count 'location:dock-a'")
    shell.send("Enter")  # the quote was closed: the command runs (else bash would prompt '> ')
    shell.wait_for("\n1\n")


def test_tab_completes_a_key_then_an_enum_option(shell):
    shell.send("metastore search 'weather:rain wea", "Tab")
    shell.wait_for("metastore search 'weather:rain weather")
    shell.send(":f", "Tab")
    shell.wait_for("metastore search 'weather:rain weather:fog'")


def test_tab_completes_key_arguments(shell):
    shell.send("metastore values loc", "Tab")
    shell.wait_for("metastore values location")
    shell.send("|")
    shell.wait_for("metastore values location |")
