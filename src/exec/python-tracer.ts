/**
 * The Python side of `ccx run`: a `sitecustomize.py` put first on `PYTHONPATH`, so that every
 * Python process the command starts (children included, as they inherit the environment)
 * records the code objects it enters (`sys.setprofile`, and `threading.setprofile` for threads;
 * Python 3.12's `sys.monitoring` would be cheaper, the profile hook works from 3.3 on) and writes
 * them at exit to `$CCX_PY_TRACE_DIR/<pid>.tsv` as `path<TAB>first line<TAB>name` lines. An
 * existing `sitecustomize` further along `sys.path` is run afterwards. A process that exits
 * through `os._exit` or a signal writes nothing.
 */
export const PYTHON_TRACER = `# Written by ccx run (src/exec/python-tracer.ts); records the code objects this process enters.
import os as _ccx_os
import sys as _ccx_sys

def _ccx_install():
    import atexit
    import threading
    out = _ccx_os.environ.get("CCX_PY_TRACE_DIR")
    if not out:
        return
    cwd = _ccx_os.getcwd()
    seen = set()
    add = seen.add

    def profile(frame, event, arg):
        if event == "call":
            add(frame.f_code)

    def dump():
        _ccx_sys.setprofile(None)
        lines = set()
        for code in list(seen):
            name = code.co_filename
            if not name or name.startswith("<"):
                continue
            lines.add("%s\\t%d\\t%s\\n" % (_ccx_os.path.join(cwd, name), code.co_firstlineno, code.co_name))
        try:
            with open(_ccx_os.path.join(out, "%d.tsv" % _ccx_os.getpid()), "w", encoding="utf-8") as f:
                f.writelines(sorted(lines))
        except OSError:
            pass

    atexit.register(dump)
    threading.setprofile(profile)
    _ccx_sys.setprofile(profile)

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
