"""The implementation table: reference primitive name -> accel primitive.

`implementation_table()` is what `refkeras.backend.tape.set_implementation_table`
accepts: a dict whose entries have `forward(*inputs, **attrs)` and
`grad(g, out, *inputs, **attrs)` with the reference's signatures, working on
`DeviceArray`s. It raises if any reference primitive lacks an accel forward or
gradient, so that nothing can fall back to the host silently; `missing()` lists
what is lacking (the coverage test prints it).
"""
from accel.errors import AccelError
from accel.registry import ACCEL_REGISTRY

_LOADED = []


def _load():
    """Imports the accel primitive modules (registering them) once."""
    if not _LOADED:
        from accel import prims_array, prims_conv, prims_math, prims_nn, prims_rnn  # noqa: F401
        from accel import prims_fused, prims_updates  # noqa: F401
        from accel import prims_ctc  # noqa: F401
        from accel import prims_gru  # noqa: F401
        _LOADED.append(True)
    return ACCEL_REGISTRY


def registered():
    """Every accel primitive registered so far: a dict name -> `AccelPrimitive`
    (unlike `implementation_table`, usable while coverage is incomplete)."""
    return _load()


def missing():
    """What accel lacks to mirror the reference registry.

    # Returns
        A sorted list of `(name, part)` with part 'forward' or 'grad': every
        reference primitive without an accel primitive of the same name, and
        every differentiable one (with a reference gradient rule) whose accel
        twin has no gradient rule.
    """
    # Imported here: at the top it would be a circular import.
    from refkeras.backend.registry import REGISTRY
    accel = _load()
    gaps = []
    for name, ref in sorted(REGISTRY.items()):
        mine = accel.get(name)
        if mine is None:
            gaps.append((name, 'forward'))
            if ref.grad is not None:
                gaps.append((name, 'grad'))
        elif ref.grad is not None and mine.grad is None:
            gaps.append((name, 'grad'))
    return gaps


def extra():
    """accel primitives with no reference twin (sorted names); should be empty."""
    # Imported here: at the top it would be a circular import.
    from refkeras.backend.registry import REGISTRY
    return sorted(set(_load()) - set(REGISTRY))


class IncompleteTableError(AccelError, LookupError):
    """accel does not implement every reference primitive."""


def implementation_table():
    """A dict `name -> accel primitive` covering the whole reference registry.

    # Raises
        AccelUnavailableError: if there is no GPU and no simulator.
        IncompleteTableError: naming every primitive accel lacks.
    """
    gaps = missing()
    if gaps:
        raise IncompleteTableError('accel lacks %d reference primitive part(s): %s'
                                   % (len(gaps), ', '.join('%s.%s' % g for g in gaps)))
    # Imported here: at the top it would be a circular import.
    from refkeras.backend.registry import REGISTRY
    accel = _load()
    return {name: accel[name] for name in REGISTRY}
