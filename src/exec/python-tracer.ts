/**
 * The Python side of `ccx run`: a `sitecustomize.py` put first on `PYTHONPATH`, so that every
 * Python process the command starts (children included, as they inherit the environment)
 * records the code objects it enters with the C profiler (`cProfile`, one per thread through
 * `threading.setprofile`; far cheaper than a Python-level `sys.setprofile` hook) and writes
 * them at exit to `$CCX_PY_TRACE_DIR/<pid>.tsv` as `path<TAB>first line<TAB>name` lines. An
 * existing `sitecustomize` further along `sys.path` is run afterwards. A process that exits
 * through `os._exit` or a signal writes nothing.
 */
export const PYTHON_TRACER = `# Written by ccx run (src/exec/python-tracer.ts); records the code objects this process enters.
import os as _ccx_os
import sys as _ccx_sys

def _ccx_install():
    out = _ccx_os.environ.get("CCX_PY_TRACE_DIR")
    if not out:
        return
    import atexit
    import cProfile
    import threading
    cwd = _ccx_os.getcwd()
    profilers = []

    def start():
        profiler = cProfile.Profile(builtins=False)
        profilers.append(profiler)
        profiler.enable(subcalls=False, builtins=False)

    def thread_start(frame, event, arg):
        # Called once in each new thread: the C profiler then replaces this hook.
        start()

    def dump():
        lines = set()
        for profiler in profilers:
            try:
                profiler.disable()
                profiler.create_stats()
            except Exception:
                continue
            for filename, line, name in profiler.stats:
                if not filename or filename.startswith("<") or filename == "~":
                    continue
                lines.add("%s\\t%d\\t%s\\n" % (_ccx_os.path.join(cwd, filename), line, name))
        try:
            with open(_ccx_os.path.join(out, "%d.tsv" % _ccx_os.getpid()), "w", encoding="utf-8") as f:
                f.writelines(sorted(lines))
        except OSError:
            pass

    atexit.register(dump)
    threading.setprofile(thread_start)
    start()

def _ccx_chain():
    here = _ccx_os.path.dirname(_ccx_os.path.abspath(__file__))
    for entry in _ccx_sys.path:
        candidate = _ccx_os.path.join(entry or ".", "sitecustomize.py")
        if _ccx_os.path.abspath(_ccx_os.path.dirname(candidate)) == here or not _ccx_os.path.isfile(candidate):
            continue
        with open(candidate, encoding="utf-8") as f:
            code = compile(f.read(), candidate, "exec")
        exec(code, {"__name__": "sitecustomize", "__file__": candidate})
        return

_ccx_install()
_ccx_chain()
`;
