"""The grader's code inside a kernel (sent as source after codec.py; imports nothing from booktools).

Two roles:

* ``reference`` -- the trusted kernel that runs the instructor's source notebook. Its rewritten
  test cells call :func:`check`, :func:`check_function`, :func:`check_call` and :func:`ship`,
  which publish what the grader needs as plain data: each check's *expected* value and
  tolerances, each function check's inputs and the reference's outputs, and the inputs the
  student's side of a test cell needs. They also run the real ``helpers.checks`` function on the
  solution, so a source notebook that fails its own tests is caught.
* ``student`` -- the sandboxed kernel of a submission. Its test-cell programs call :func:`emit`
  (evaluate the student's side of a check and publish the value as data), :func:`call` (call a
  student's function on fresh copies of the inputs) and :func:`load` (receive inputs). Nothing
  here judges: whatever a student's code does to this module only changes the data it sends out.

Records leave as ``display_data`` messages of the MIME type ``MIME`` (JSON text, ASCII).
"""

import collections
import copy
import hashlib
import os
import pickle

MIME = "application/x-cnnbook-grader+json"
_eval = eval  # bound before any student code runs: a student's builtins.eval does not reach here
_state = {"shell": None, "role": None, "inputs": None, "counts": collections.Counter()}


def install(shell, role, inputs):
    _state.update(shell=shell, role=role, inputs=inputs)


def _publish(record):
    from IPython.display import publish_display_data

    publish_display_data({MIME: dumps(record)})  # noqa: F821 (codec.py, same namespace)


def _describe(exc):
    try:
        text = str(exc)
    except Exception:
        text = "(its message could not be read)"
    name = type(exc).__name__
    return (f"{name}: {text}" if text else name)[:600]


def identity(obj):
    """A name for ``obj`` that is the same in every kernel: ``model.classifier.4.weight`` for a
    parameter or buffer of a module bound to a global name; a unique token for anything else."""
    import sys

    torch = sys.modules.get("torch")
    ns = _state["shell"].user_ns
    if torch is not None:
        for var in sorted(k for k in ns if not k.startswith("_")):
            module = ns[var]
            if isinstance(module, torch.nn.Module):
                for name, item in list(module.named_parameters(remove_duplicate=False)) + list(
                        module.named_buffers(remove_duplicate=False)):
                    if item is obj:
                        return f"{var}.{name}"
    return f"<{type(obj).__name__} object #{id(obj)}>"


# ------------------------------------------------------------------------- reference role ----

def _ship(value):
    """Non-data inputs sent into a student's kernel: functions by name, anything else pickled."""
    ns = _state["shell"].user_ns
    if callable(value) and getattr(value, "__name__", None):
        for name in sorted(ns):
            if ns[name] is value and not name.startswith("_"):
                return ["ref", name]
    try:
        data = pickle.dumps(value, protocol=4)
    except Exception as exc:
        raise NotData(f"a {type(value).__name__} that cannot be sent to the student's kernel "  # noqa: F821
                      f"({_describe(exc)})") from None
    name = hashlib.sha256(data).hexdigest()[:32] + ".pkl"
    path = os.path.join(_state["inputs"], name)
    if not os.path.exists(path):
        with open(path + ".tmp", "wb") as f:
            f.write(data)
        os.replace(path + ".tmp", path)
    return ["pkl", name]


def _next(cell, site):
    key = (cell, site)
    _state["counts"][key] += 1
    return _state["counts"][key] - 1


def _expected(cell, label, value):
    try:
        return encode(value)  # noqa: F821
    except NotData as exc:  # noqa: F821
        raise RuntimeError(f"[grader] {cell}, check {label!r}: the expected value is {exc}") from None


def check(cell, site, bridge, label, got, expected, *, split=False, reveal=True, atol=1e-6,
          rtol=1e-6, hint=None, why=None):
    from helpers.checks import check as real_check

    record = {"kind": "check", "cell": cell, "site": site, "inv": _next(cell, site), "label": str(label),
              "atol": float(atol), "rtol": float(rtol), "reveal": bool(reveal), "hint": hint,
              "expected": _expected(cell, label, expected), "bridge": encode(bridge, ship=_ship)}  # noqa: F821
    if why:  # a multiple choice's explanation of each wrong option, for the feedback
        record["why"] = [[_expected(cell, label, option), str(text)] for option, text in dict(why).items()]
    try:
        if split:
            real_check(label, got == expected, True, reveal=reveal, atol=atol, rtol=rtol, hint=hint)
        else:
            real_check(label, got, expected, reveal=reveal, atol=atol, rtol=rtol, hint=hint, why=why)
    except AssertionError as exc:
        record["sanity"] = _describe(exc)
    _publish(record)


def _short(value):
    from helpers.checks import _short as short

    try:
        return short(value)
    except Exception:
        return f"<{type(value).__name__}>"


def _function_record(cell, site, label, func, cases, expected, atol, rtol, hint, reveal=True):
    record = {"kind": "function", "cell": cell, "site": site, "inv": _next(cell, site), "label": str(label),
              "atol": float(atol), "rtol": float(rtol), "hint": hint, "reveal": reveal,
              "cases": [], "expected": [], "calls": []}
    for args, kwargs in cases:
        record["cases"].append(encode((tuple(args), dict(kwargs)), ship=_ship))  # noqa: F821
        record["calls"].append(", ".join([_short(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]))
    for (args, kwargs), value in zip(cases, expected):
        record["expected"].append(_expected(cell, label, value))
    return record


def check_function(cell, site, label, func, reference, cases, *, atol=1e-6, rtol=1e-6, hint=None):
    from helpers.checks import check_function as real_check_function

    cases = [(tuple(a), dict(k)) for a, k in cases]
    outputs = [reference(*copy.deepcopy(a), **copy.deepcopy(k)) for a, k in cases]
    record = _function_record(cell, site, label, func, cases, outputs, atol, rtol, hint)
    try:
        real_check_function(label, func, reference, cases, atol=atol, rtol=rtol, hint=hint)
    except AssertionError as exc:
        record["sanity"] = _describe(exc)
    _publish(record)


def check_call(cell, site, label, func, args, kwargs, expected, *, atol=1e-6, rtol=1e-6, hint=None):
    """A hidden test's ``check(label, f(args), expected)``: one call of the student's function."""
    from helpers.checks import _matches

    record = _function_record(cell, site, label, func, [(args, kwargs)], [expected], atol, rtol, hint, False)
    try:
        if not _matches(func(*copy.deepcopy(args), **copy.deepcopy(kwargs)), expected, atol, rtol):
            record["sanity"] = f"{label}: the source's own answer does not pass"
    except Exception as exc:
        record["sanity"] = _describe(exc)
    _publish(record)


def ship(cell, point, values):
    _publish({"kind": "ship", "cell": cell, "point": point, "values": encode(values, ship=_ship)})  # noqa: F821


# --------------------------------------------------------------------------- student role ----

def _resolve(tag, payload):
    if tag == "ref":
        ns = _state["shell"].user_ns
        if payload not in ns:
            raise NameError(f"name {payload!r} is not defined")
        return ns[payload]
    with open(os.path.join(_state["inputs"], os.path.basename(payload)), "rb") as f:
        return pickle.load(f)  # the trusted reference kernel wrote it: a fresh copy per call


def _inputs(text):
    return decode(loads(text), tensors=True, resolve=_resolve)  # noqa: F821


def load(text):
    _state["shell"].user_ns.update(_inputs(text))


def _result(record, thunk):
    try:
        record["got"] = encode(thunk())  # noqa: F821
    except NotImplementedError:
        record["not_done"] = True
    except NotData as exc:  # noqa: F821
        record["error"] = f"the answer is {exc}"
    except Exception as exc:
        record["error"] = _describe(exc)
    _publish(record)


def emit(cell, site, inv, code, bridge=None):
    ns = _state["shell"].user_ns
    if bridge is not None:
        ns = dict(ns)
        try:
            ns.update(_inputs(bridge))
        except Exception as exc:
            _publish({"cell": cell, "site": site, "inv": inv, "error": _describe(exc)})
            return
    _result({"cell": cell, "site": site, "inv": inv}, lambda: _eval(code, ns))


def call(cell, site, inv, code, cases):
    try:
        func = _eval(code, _state["shell"].user_ns)
    except Exception as exc:
        for case in range(len(cases)):
            _publish({"cell": cell, "site": site, "inv": inv, "case": case, "error": _describe(exc)})
        return
    for case, text in enumerate(cases):
        record = {"cell": cell, "site": site, "inv": inv, "case": case}
        try:
            args, kwargs = _inputs(text)  # fresh copies for every call
        except Exception as exc:
            record["error"] = _describe(exc)
            _publish(record)
            continue
        _result(record, lambda: func(*args, **kwargs))


def fail(cell, exc):
    _publish({"cell": cell, "cell_error": _describe(exc), "not_done": isinstance(exc, NotImplementedError)})
