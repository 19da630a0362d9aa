# ruff: noqa: F821 -- runs in the student's kernel (see checks/kernel/__init__.py)
"""Problem 5 prelude: find the 784-32-32-10 weights wherever the notebook holds them,
read and write them there, and call the student's functions as the notebook does.

Sent as one code with p5_layouts (the starter's kinds of holder), p5_chain
(the network by its shape chain; `find`), p5_access (reading, writing,
saving and restoring a holder's arrays) and p5_binding (`bound`/`absorb`,
`as_called`);
see checks.probes.p5_tools_code.

Everything is built by one call of `_dlgrade_p5_tools()` so that hooks a
watch installs keep working after the engine removes the names this prelude
defined: they hold the returned tools, never look them up as globals.
"""


def _dlgrade_p5_tools():
    import sys
    import types

    layouts = _dlgrade_p5_layouts()
    search = _dlgrade_p5_chain(layouts)
    access = _dlgrade_p5_access()
    binding = _dlgrade_p5_binding(search, access)
    return types.SimpleNamespace(
        bound=binding.bound,
        absorb=binding.absorb,
        as_called=binding.as_called,
        keeping=binding.keeping,
        as_float=access.as_float,
        find=search.find,
        read=access.read,
        write=access.write,
        save=access.save,
        restore=access.restore,
        fingerprint=access.fingerprint,
        training_state=access.training_state,
        getframe=sys._getframe,
    )
