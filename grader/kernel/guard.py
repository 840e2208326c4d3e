"""The grader's guard, inside the student's kernel: reset what code may tamper with, and say so.

nbgrader scores a test cell from what the kernel reports, and the kernel runs the student's code:
an input or AST transformer, an event callback, a replaced ``run_cell`` or ``do_execute``, a
patched ``numpy.allclose`` or ``print`` can make any test "pass". Before and after every test
cell the grader (``grader.preprocessors.guarded_execute``) asks this guard to put the kernel's
machinery back exactly as it was before the first student cell ran, and to list what it had to
restore. Its answer is signed with a key only this guard and the grader know, and written to a
file descriptor the grader reads from outside the kernel: student code can prevent the answer
(that is reported as tampering) but cannot forge it.

``boot.py`` executes this file into a namespace of its own, fills in the key and the C functions
below, then installs :func:`hook` as an audit hook (which no Python code can remove). The guard
runs only when the grader triggers the ``grader.guard`` audit event, and it never calls code the
student can replace: it uses the builtins as they were at start-up, exact-type checks and identity
comparisons, with signals blocked and the garbage collector paused, so no student code (a
``__del__``, a signal handler, a ``__eq__``) runs while it holds the key.

What it cannot stop is code that edits the interpreter's memory (``ctypes``) or that reads and
targets this guard specifically; see README "Isolation".
"""

# Filled in by boot.py after this file is executed (see install() there).
_KEY = b""
_CHANNEL = -1
_write = None
_blake2b = None
_exit = None
_sigmask = None
_SIG_BLOCK = 0
_SIG_SETMASK = 2
_ALL_SIGNALS = ()
_gc_disable = None
_gc_enable = None
_gc_isenabled = None
_sys = None

# Events that only serve to find or read the guard's own objects: the kernel is stopped at once.
_KILL_EVENTS = frozenset({
    "gc.get_objects", "gc.get_referrers", "gc.get_referents", "sys._current_frames",
    "ctypes.string_at", "ctypes.wstring_at", "ctypes.cdata",
})
# Events that honest libraries cause at other times but that can rewrite a running test
# (a trace function can jump over an assert): reported when they happen during a test cell.
_TEST_EVENTS = frozenset({"sys.settrace", "sys.setprofile", "object.__setattr__"})

# Names the kernel's own objects change while running honest code (data, not behaviour).
_VOLATILE = frozenset({
    "last_execution_result", "last_execution_succeeded", "_last_traceback", "_parent_header",
    "_parents", "execution_count", "_main_mod_cache", "_saved_rcParams", "_showtraceback",
    "_allow_stdin", "_publish_status", "_buffers", "_flush_pending", "_subprocess_flush_pending",
    "_io_loop", "_timer", "_exc_info", "exec_result", "_pending_tasks", "_execution_lock",
    "shell_stream", "_send_exec_request", "_poller", "_events", "_local", "set_next_input",
    "_", "__", "___",
})
# Module-level names of the interpreter that code may legitimately set.
_SYS_HOOKS = ("displayhook", "excepthook", "stdout", "stderr", "stdin", "breakpointhook",
              "__displayhook__", "__excepthook__", "audit", "addaudithook", "settrace", "setprofile")
# Builtins a test uses; a callable of the same name in the user namespace would shadow them.
_SHADOWABLE = ("print", "isinstance", "issubclass", "len", "abs", "round", "all", "any", "sum",
               "min", "max", "sorted", "type", "hasattr", "getattr", "float", "int", "str", "bool",
               "list", "dict", "tuple", "set", "range", "zip", "enumerate", "callable", "repr",
               "__import__", "AssertionError", "Exception", "ValueError", "TypeError", "id", "vars")
# Modules whose functions and classes tests call; kept as they were when the snapshot was taken.
# Always these; the grader adds what the lesson's locked cells import (the "snapshot" command's
# argument), each with its loaded public submodules (keras -> keras.layers, keras.ops, ...).
_ALWAYS_PROTECTED = ("builtins", "math", "IPython", "IPython.display", "kerascourse", "kerascourse.probes")
# Packages whose classes are snapshotted with every attribute (class-level patching).
_PROTECTED_PACKAGES = ("IPython.", "ipykernel.", "jupyter_client.", "traitlets.", "zmq.", "keras.",
                       "numpy.", "kerascourse.", "matplotlib_inline.", "comm.")
_HEX = "0123456789abcdef"

_shell = None
_snapshot = None
_in_test = False
_during_test = []
_graveyard = []  # what the guard removed, kept alive so no __del__ runs while it holds the key


def hook(event, args):
    """The audit hook: cheap for every event, acts on a few."""
    if event in _KILL_EVENTS:
        _die(event)
    elif event == "open":
        path = args[0] if args else None
        if type(path) is str and path.startswith("/proc/") and (path.endswith("/mem")
                                                                or path.endswith("/pagemap")):
            _die("open " + path)
    elif event == "grader.guard":
        _guard(args)
    elif _in_test and event in _TEST_EVENTS:
        if event == "object.__setattr__":
            if len(args) > 1 and type(args[1]) is str and args[1] == "__class__":
                _during_test.append("__class__ assignment")
        else:
            _during_test.append(event)


def _die(reason):
    """Stop the kernel: the grader reads the reason from the channel and reports tampering."""
    try:
        _write(_CHANNEL, ("GRADER-GUARD-KILL " + _clean(reason) + "\n").encode())
    finally:
        _exit(86)


def _clean(text):
    if type(text) is not str:
        return "?"
    return "".join(ch if (ch.isalnum() or ch in "._-:/ ") else "?" for ch in text[:120])


def _guard(args):
    global _in_test
    if len(args) < 2 or type(args[0]) is not str or type(args[1]) is not str:
        return
    command, nonce = args[0], args[1]
    if len(nonce) != 32 or any(ch not in _HEX for ch in nonce):
        return
    try:
        mask = _sigmask(_SIG_BLOCK, _ALL_SIGNALS)
        collecting = _gc_isenabled()
        _gc_disable()
        try:
            try:
                if command == "arm":
                    items = _arm(args)
                elif command == "snapshot":
                    items = _take_snapshot(args[2] if len(args) > 2 else ())
                elif command == "before":
                    items = _check()
                    _during_test.clear()
                    _in_test = True
                elif command == "done":  # the last line of a test cell: it ran to its end
                    items = []
                elif command == "after":
                    _in_test = False
                    items = _check() + ["during the test: " + e for e in _during_test]
                    _during_test.clear()
                else:
                    return
                status = "ok"
            except BaseException:
                items, status = ["the guard itself failed"], "error"
            body = command + " " + nonce + " " + status + " " + "|".join(_clean(i) for i in items)
            mac = _blake2b(body.encode(), key=_KEY, digest_size=16).hexdigest()
            _write(_CHANNEL, ("GRADER-GUARD " + body + " " + mac + "\n").encode())
        finally:
            if collecting:
                _gc_enable()
            _sigmask(_SIG_SETMASK, mask)
    except BaseException:
        _die("guard error")


# --- taking the snapshot (trusted: runs before any student code) -------------------------------

def _arm(args):
    """Remember the kernel's shell. Only the first call counts (it comes before any cell runs)."""
    global _shell
    if _shell is not None:
        return ["a second arm request"]
    if len(args) < 3:
        return ["no shell given"]
    _shell = args[2]
    return []


def _attr_path(root, path):
    obj = root
    for name in path.split(".") if path else ():
        obj = getattr(obj, name, None)
        if obj is None:
            return None
    return obj


def _holder(owner):
    """The dict an attribute of ``owner`` lives in (traitlets keep trait values in their own)."""
    return object.__getattribute__(owner, "__dict__")


def _member_dict(owner, attr):
    d = _holder(owner)
    values = d.get("_trait_values")
    if type(values) is dict and attr in values:
        return values
    return d


# Objects whose attributes the guard watches, as paths from the shell.
_OBJECTS = ("", "kernel", "kernel.session", "events", "displayhook", "display_pub",
            "display_formatter", "input_transformer_manager", "compile", "builtin_trap",
            "display_trap", "kernel.iopub_thread", "kernel.iopub_socket", "history_manager",
            "payload_manager", "extension_manager")
# Lists and dicts of callables the kernel runs code through: (owner path, attribute).
_CONTAINERS = (("", "input_transformers_post"), ("", "ast_transformers"),
               ("input_transformer_manager", "cleanup_transforms"),
               ("input_transformer_manager", "line_transforms"),
               ("input_transformer_manager", "token_transformers"), ("events", "callbacks"),
               ("kernel", "shell_handlers"), ("kernel", "control_handlers"))


def _protected_modules(imported):
    """The always-protected modules, the locked cells' imports, and their public submodules."""
    sys = _sys
    names = list(_ALWAYS_PROTECTED)
    roots = [n for n in imported if type(n) is str] if type(imported) is tuple else []
    names += roots
    for name in list(sys.modules):
        if type(name) is not str:
            continue
        for root in roots:
            rest = name[len(root) + 1:] if name.startswith(root + ".") else ""
            if rest and "." not in rest and not rest.startswith("_") and rest != "src":
                names.append(name)
    return list(dict.fromkeys(names))


def _take_snapshot(imported=()):
    """Record the pristine machinery: called once, after the locked set-up, before student code."""
    global _snapshot
    if _shell is None:
        return ["not armed"]
    if _snapshot is not None:
        return ["a second snapshot request"]
    sys = _sys
    try:  # matplotlib's inline backend registers its callback when pyplot is first imported
        import matplotlib_inline.backend_inline as inline
        allowed = [inline.flush_figures]
    except Exception:
        allowed = []
    objects = {}
    for path in _OBJECTS:
        obj = _attr_path(_shell, path)
        if obj is not None:
            objects["shell." + path if path else "shell"] = obj
    objects["sys.stdout"], objects["sys.stderr"] = sys.stdout, sys.stderr
    instance, classes = {}, {}
    for name, obj in objects.items():
        d = getattr(obj, "__dict__", None)
        if type(d) is dict:
            instance[name] = (obj, type(obj), dict(d))
        for cls in type(obj).__mro__:
            if cls is not object:
                classes[id(cls)] = (cls, dict(vars(cls)))
    containers = {}
    for path, attr in _CONTAINERS:
        owner = _attr_path(_shell, path)
        if owner is None:
            continue
        value = getattr(owner, attr, None)
        label = "shell." + (path + "." if path else "") + attr
        if type(value) is list:
            containers[label] = (owner, attr, value, list(value))
        elif type(value) is dict:
            containers[label] = (owner, attr, value, {
                k: (v, list(v) if type(v) is list else None) for k, v in value.items()})
    for attr in ("meta_path", "path_hooks"):
        value = getattr(sys, attr)
        containers["sys." + attr] = (sys, attr, value, list(value))
    modules = {}
    for name in _protected_modules(imported):
        module = sys.modules.get(name)
        if module is None:
            continue
        modules[name] = (module, dict(vars(module)))
        for value in list(vars(module).values()):
            if isinstance(value, type):
                for cls in value.__mro__:
                    owner = getattr(cls, "__module__", "")
                    if type(owner) is str and owner.startswith(_PROTECTED_PACKAGES):
                        classes.setdefault(id(cls), (cls, dict(vars(cls))))
    user_ns = _shell.user_ns
    bound = {k: v for k, v in user_ns.items()
             if type(k) is str and not k.startswith("_") and type(v) is type(sys)}
    pinned = {id(o) for o in objects.values()} | {id(c[2]) for c in containers.values()}
    _snapshot = {
        "instance": instance, "classes": list(classes.values()), "containers": containers,
        "modules": modules, "sys": {n: getattr(sys, n, None) for n in _SYS_HOOKS},
        "sys_modules": (sys.modules, {n: m for n, (m, _) in modules.items()}),
        "user_ns": (user_ns, bound), "allowed_callbacks": allowed, "pinned": pinned,
    }
    return []


# --- checking and restoring (untrusted: runs with student code's changes in place) --------------

_FunctionType = type(lambda: None)
_MethodType = type(_FunctionType.__get__(lambda: None, 0))


def _same(old, new):
    """The same behaviour: one object, a bound method of the same function on the same object,
    or a function re-created from the same code (IPython re-creates some closures per cell)."""
    if old is new:
        return True
    kind = type(new)
    if kind is not type(old):
        return False
    if kind is _MethodType:
        return new.__self__ is old.__self__ and new.__func__ is old.__func__
    if kind is _FunctionType:
        return new.__code__ is old.__code__
    return False


def _is_data(value):
    """Plain data (exact builtin types): changing it changes no behaviour a test relies on."""
    t = type(value)
    return (value is None or t is bool or t is int or t is float or t is str or t is bytes
            or t is tuple or t is dict or t is list or t is set or t is frozenset)


def _str_keys_only(live, label, restored):
    """Drop names that are not exact strings, without hashing or comparing them.

    Looking up a string in a dict compares it with any stored key of the same hash, and a key of
    the student's own type would run its ``__eq__`` while the guard works.
    """
    if all(type(key) is str for key in list(live)):
        return
    kept = [(key, value) for key, value in list(live.items()) if type(key) is str]
    _graveyard.append(list(live.items()))
    live.clear()
    live.update(kept)
    restored.append(label + ": a name that is not a string")


def _restore_namespace(live, pristine, label, restored, pinned, *, drop_added=True):
    """Put back an instance's or module's callables (and the objects the guard watches).

    Data (counters, caches, results) changes as honest code runs and is left alone; a callable
    that was replaced or deleted is behaviour, and is restored. A callable added to an object
    shadows a method of its class and is removed (``drop_added``); one added to a module (lazy
    imports add them as they load) shadows nothing and stays.
    """
    _str_keys_only(live, label, restored)
    for key in list(live):
        if key in _VOLATILE:
            continue
        value = live[key]
        if key in pristine:
            old = pristine[key]
            if _same(old, value):
                continue
            if callable(old) or callable(value) or id(old) in pinned:
                _graveyard.append(value)
                live[key] = old
                restored.append(label + "." + key)
        elif drop_added and callable(value):
            _graveyard.append(live.pop(key))
            restored.append(label + "." + key)
    for key, old in pristine.items():
        if key not in live and key not in _VOLATILE and (callable(old) or id(old) in pinned):
            live[key] = old
            restored.append(label + "." + key + " (deleted)")


def _restore_class(cls, pristine, restored):
    """Put back every attribute of a class that is not plain data (methods, properties, ...)."""
    live = type.__dict__["__dict__"].__get__(cls)
    name = type.__dict__["__name__"].__get__(cls)
    for key in list(live):
        if type(key) is not str:
            restored.append(name + ".<non-string name>")
            continue
        value = live[key]
        if key in pristine:
            old = pristine[key]
            if _same(old, value) or (_is_data(old) and _is_data(value)):
                continue
            _graveyard.append(value)
            type.__setattr__(cls, key, old)
            restored.append(name + "." + key)
        elif not _is_data(value):
            _graveyard.append(value)
            type.__delattr__(cls, key)
            restored.append(name + "." + key)
    for key, old in pristine.items():
        if key not in live and not _is_data(old):
            type.__setattr__(cls, key, old)
            restored.append(name + "." + key + " (deleted)")


def _restore_list(live, pristine, allowed=()):
    """Make ``live`` hold ``pristine``'s items (plus any of ``allowed`` it holds); True if it differed."""
    extra = [x for x in live if any(x is a for a in allowed) and not any(x is p for p in pristine)]
    wanted = pristine + extra
    if len(live) == len(wanted) and all(a is b for a, b in zip(live, wanted, strict=True)):
        return False
    _graveyard.append(list(live))
    live[:] = wanted
    return True


def _restore_containers(snap, restored):
    sys = _sys
    for label, (owner, attr, original, pristine) in snap["containers"].items():
        holder = _holder(sys) if owner is sys else _member_dict(owner, attr)
        if holder.get(attr) is not original:
            _graveyard.append(holder.get(attr))
            holder[attr] = original
            restored.append(label + " (replaced)")
        if type(pristine) is list:
            if _restore_list(original, pristine):
                restored.append(label)
            continue
        _str_keys_only(original, label, restored)
        for key in list(original):
            if key not in pristine:
                _graveyard.append(original.pop(key))
                restored.append(label + "." + key)
        for key, (value, items) in pristine.items():
            if original.get(key) is not value:
                _graveyard.append(original.get(key))
                original[key] = value
                restored.append(label + "." + key)
            if items is not None and _restore_list(value, items, snap["allowed_callbacks"]):
                restored.append(label + "." + key)


def _check():
    snap = _snapshot
    if snap is None:
        return ["no snapshot"]
    sys = _sys
    restored = []
    for cls, pristine in snap["classes"]:  # first: attribute access below goes through them
        _restore_class(cls, pristine, restored)
    for label, (obj, cls, pristine) in snap["instance"].items():
        if type(obj) is not cls:
            restored.append(label + ".__class__")
            object.__setattr__(obj, "__class__", cls)
        _restore_namespace(_holder(obj), pristine, label, restored, snap["pinned"])
    _restore_containers(snap, restored)
    sys_dict = _holder(sys)
    _str_keys_only(sys_dict, "sys", restored)
    for name, old in snap["sys"].items():
        if not _same(old, sys_dict.get(name)):
            _graveyard.append(sys_dict.get(name))
            sys_dict[name] = old
            restored.append("sys." + name)
    if sys.gettrace() is not None or sys.getprofile() is not None:
        _graveyard.append((sys.gettrace(), sys.getprofile()))
        sys.settrace(None)
        sys.setprofile(None)
        restored.append("sys.settrace/setprofile")
    modules, pristine_modules = snap["sys_modules"]
    if sys_dict.get("modules") is not modules:
        _graveyard.append(sys_dict.get("modules"))
        sys_dict["modules"] = modules
        restored.append("sys.modules (replaced)")
    _str_keys_only(modules, "sys.modules", restored)
    for name, module in pristine_modules.items():
        if modules.get(name) is not module:
            _graveyard.append(modules.get(name))
            modules[name] = module
            restored.append("sys.modules[" + name + "]")
    for name, (module, pristine) in snap["modules"].items():
        _restore_namespace(_holder(module), pristine, name, restored, snap["pinned"], drop_added=False)
    user_ns, bound = snap["user_ns"]
    _str_keys_only(user_ns, "user namespace", restored)
    for name, module in bound.items():
        current = user_ns.get(name)
        if current is not module:
            _graveyard.append(current)
            user_ns[name] = module
            if type(current) is not type(module):  # another module under the same name is fine
                restored.append("user namespace: " + name)
    for name in _SHADOWABLE:
        if callable(user_ns.get(name)):
            _graveyard.append(user_ns.pop(name))
            restored.append("user namespace shadows the builtin " + name)
    return restored
