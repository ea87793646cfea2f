"""Names: the modules and the zoo's networks by the names a user types, and the aliases
and hints that read one for the other. The zoo is built on first use, so a module's
lookup never loads a network.

>>> module("Depthwise_Separable").name, module("resnet").name
('depthwise-separable', 'bottleneck')
>>> network("ResNet-50").name
'resnet50'
>>> module_names()[:3]
['group', 'vgg-stack', 'factorized']
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Mapping, Optional

from .errors import InvalidValueError, UnknownNameError, unknown_name, wrong_type

if TYPE_CHECKING:  # pragma: no cover
    import sympy

    from .modules import Module
    from .networks import Network
    from .rules import Rule
    from .symbols import Number

# The modules load sympy, the networks do not: each lookup imports only its own kind, inside it,
# so that counting a network at a concrete size never loads sympy.

__all__ = ["NETWORK_ALIASES", "compose", "module", "module_names", "later_module_names", "attention_module_names", "stands_for", "network",
           "network_names"]


# -- modules ------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def _by_name() -> dict[str, "Module"]:
    """Every module by its name and its aliases."""
    from .modules import ATTENTION_MODULES, LATER_MODULES, MODULES

    return {name: m for m in MODULES + LATER_MODULES + ATTENTION_MODULES for name in (m.name, *m.aliases)}


def _key(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(" ", "-")


def module_names() -> list[str]:
    """Canonical names, in the article's order."""
    from .modules import MODULES

    return [m.name for m in MODULES]


#: Names of networks, or of their families, read as the article's module each is shown
#: with; a name that stands for two modules is asked about.
NETWORK_ALIASES: Mapping[str, tuple[str, ...]] = {
    "alexnet": ("group",), "vgg": ("vgg-stack",), "inception": ("factorized",), "inception-v2": ("factorized",),
    "inception-v3": ("factorized",), "squeezenet": ("fire",), "resnet": ("bottleneck",),
    "mobilenet": ("depthwise-separable", "inverted-bottleneck"), "mobilenet-v1": ("depthwise-separable",),
    "mobilenet-v2": ("inverted-bottleneck",), "shufflenet-v1": ("shufflenet",),
    # the later modules' networks
    "senet": ("squeeze-excitation",), "mobilenet-v3": ("mbconv",), "efficientnet": ("mbconv",),
    "shufflenetv2": ("shufflenet-v2",), "ghostnet": ("ghost",), "densenet": ("dense-layer",),
}


def later_module_names() -> list[str]:
    """The later modules' names, in the order of their papers' ideas.

    >>> later_module_names()
    ['squeeze-excitation', 'mbconv', 'shufflenet-v2', 'convnext', 'ghost', 'dense-layer']
    """
    from .modules import LATER_MODULES

    return [m.name for m in LATER_MODULES]


def attention_module_names() -> list[str]:
    """The modules from convolution to attention, in the order of the chapter.

    >>> attention_module_names()
    ['patch-embedding', 'self-attention', 'window-attention', 'mobilevit', 'separable-attention']
    """
    from .modules import ATTENTION_MODULES

    return [m.name for m in ATTENTION_MODULES]


def module(name: str | Module) -> Module:
    """The module called ``name`` (its canonical name, an alias, any case, ``_`` or ``-``).

    >>> module("Depthwise_Separable").name
    'depthwise-separable'
    >>> module("botleneck")
    Traceback (most recent call last):
    ...
    convalgebra.errors.UnknownNameError: unknown module 'botleneck'; did you mean bottleneck or resnext? (see 'convalgebra list')
    >>> module(group(2))
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: group(2) is a rule, not a module; make it one with compose(group(2))

    A network's name stands for the module the article shows it with (:func:`stands_for`
    says so in a sentence); a name that could mean two modules, or a network of the zoo, is
    asked about:

    >>> module("resnet").name
    'bottleneck'
    >>> module("mobilenet")
    Traceback (most recent call last):
    ...
    convalgebra.errors.UnknownNameError: 'mobilenet' names networks, not a module: MobileNet V1 is built from depthwise-separable, MobileNet V2 from inverted-bottleneck; name the one you mean
    >>> module("resnet50")
    Traceback (most recent call last):
    ...
    convalgebra.errors.UnknownNameError: 'resnet50' is a network, not a module: its stages are built from bottleneck (explain bottleneck); count the network with 'convalgebra network resnet50'
    """
    from .modules import Module
    from .rules import Chain, Rewrite

    if isinstance(name, Module):
        return name
    if isinstance(name, (Rewrite, Chain)):
        raise InvalidValueError(f"{name!r} is a rule, not a module; make it one with compose({name!r})")
    if not isinstance(name, str):
        raise wrong_type(name, "a module's name or a Module")
    key = _key(name)
    found = _by_name().get(key)
    if found is not None:
        return found
    meant = NETWORK_ALIASES.get(key, ())
    if len(meant) == 1:
        return _by_name()[meant[0]]
    if meant:
        first, *others = (_by_name()[x] for x in meant)
        built = ", ".join([f"{first.network} is built from {first.name}"] + [f"{m.network} from {m.name}" for m in others])
        raise UnknownNameError(f"{name!r} names networks, not a module: {built}; name the one you mean")
    network_error = _network_named(name)
    if network_error is not None:
        raise network_error
    known = {spelling: m.name for spelling, m in _by_name().items()}
    known.update({spelling: " or ".join(meant) for spelling, meant in NETWORK_ALIASES.items()})
    raise unknown_name("module", name, known, "convalgebra list", _key)


def _network_named(name: str) -> Optional[UnknownNameError]:
    """The error for a zoo network's name given where a module belongs (None for other names)."""
    try:
        net = network(name)
    except UnknownNameError:
        return None
    built = list(dict.fromkeys(s.module for s in net.stages if s.module))
    how = (f"its stages are built from {' and '.join(built)} (explain {built[0]})" if built
           else "its blocks are none of the article's modules")
    return UnknownNameError(f"{name!r} is a network, not a module: {how}; count the network with "
                            f"'convalgebra network {net.name}'")


def stands_for(name: str | Module) -> str:
    """A sentence saying which module a network's name was read as, or '' for a module's own
    name or alias (and for a Module).

    >>> stands_for("ResNet")
    "'ResNet' names a network, not a module; read as bottleneck, the article's module from ResNet"
    >>> stands_for("bottleneck")
    ''
    """
    if not isinstance(name, str) or _key(name) in _by_name():
        return ""
    meant = NETWORK_ALIASES.get(_key(name), ())
    if len(meant) != 1:
        return ""
    m = _by_name()[meant[0]]
    return f"{name!r} names a network, not a module; read as {m.name}, the article's module from {m.network}"



# -- networks -----------------------------------------------------------------------

def _network_key(name: str) -> str:
    return "".join(ch for ch in name.strip().lower() if ch.isalnum() or ch == ".")


def _decimal(name: str) -> str:
    """A zoo name with its decimal points: ``mnasnet0_5`` is MNASNet 0.5.

    >>> _decimal("regnet_x_1_6gf"), _decimal("resnet50")
    ('regnet_x_1.6gf', 'resnet50')
    """
    import re

    return re.sub(r"(?<=\d)_(?=\d)", ".", name)


def network_names() -> list[str]:
    """The zoo's networks, by torchvision's names where torchvision has them.

    >>> network_names()[:4]
    ['alexnet', 'alexnet_grouped', 'vgg16', 'squeezenet1_0']
    """
    from .zoo import ZOO

    return list(ZOO)


def network(name: "str | Network", alpha: Any = None, image_size: Any = None) -> Network:
    """The zoo's network called ``name`` (any case; ``_``, ``-`` and spaces ignored), at width
    multiplier ``alpha`` for the families that have one (MobileNet V1 at any alpha, the symbol
    too; MobileNet V2 and MNASNet, which round their widths, at a number); a ViT built for
    ``image_size`` (its position embedding holds one token a patch, as torchvision's ``image_size=``).

    >>> network("mobilenet_v1", 0.5).title, network("mobilenet_v1", 0.5).total(160)[0]
    ('MobileNet V1 0.5', 76524800)

    >>> network("ResNet-50").name, network("RegNetX-1.6GF").name, network("RegNet-X-16GF").name
    ('resnet50', 'regnet_x_1_6gf', 'regnet_x_16gf')
    >>> network("regnet_x_1_6gf").name, network("MNASNet 0.5").name
    ('regnet_x_1_6gf', 'mnasnet0_5')
    >>> network("vgg")
    Traceback (most recent call last):
    ...
    convalgebra.errors.UnknownNameError: unknown network 'vgg'; did you mean vgg16 or vgg11 or vgg13? (see 'convalgebra networks')
    """
    from .networks import Network  # here, so that looking a module up loads no network

    if isinstance(name, Network):
        return name if alpha is None and image_size is None else network(name.name, alpha, image_size)
    if not isinstance(name, str):
        raise wrong_type(name, "a network's name (see 'convalgebra networks') or a Network")
    if image_size is not None:
        from .validation import check

        image_size = check("size", image_size, "image_size", symbolic=False)
    if not name.isprintable():  # a control character is no part of a name (lookup ignores punctuation, not these)
        raise InvalidValueError(f"network {name!r}: a name holds no control characters (see 'convalgebra networks')")
    from .zoo import ZOO, build

    if alpha is not None:
        from .zoo import width_multiplier

        alpha = width_multiplier(alpha)  # 0.5 and 1/2 are one network
    if str(name) in ZOO:
        return build(str(name), alpha, image_size)
    keys = {_network_key(_decimal(n)): n for n in ZOO}  # regnet_x_1_6gf as regnetx1.6gf, as its title writes it
    for n in ZOO:
        keys.setdefault(_network_key(n), n)  # regnet_x_1_6gf as regnetx16gf too, unless that is regnet_x_16gf's
    found = keys.get(_network_key(str(name)))
    if found is not None:
        return build(found, alpha, image_size)
    raise unknown_name("network", name, keys, "convalgebra networks", _network_key)


# -- a new module, named -------------------------------------------------------------

def compose(*rules: Rule, name: str = "custom", parameters: Mapping[sympy.Symbol, Optional[Number]] | None = None,
            summary: str = "", title: str = "", example: Mapping[Any, Any] | None = None) -> Module:
    """A new module from primitive rewrites, applied left to right to the standard convolution.

    Parameters not given default to the module's free symbols, with no default value.
    ``example`` gives sizes (K, M, N, I) of a layer to show numbers at, as the article's
    modules have; those not given are :data:`COMPOSED_EXAMPLE`'s.

    >>> from convalgebra.rules import factorize, separate
    >>> m = compose(separate(), factorize(), name="factorized-depthwise")
    >>> [(c.kernel, c.groups) for c in m.layers()]
    [((K, 1), M), ((1, K), M), ((1, 1), 1)]
    >>> m.parameters
    {}
    >>> compose(separate(), parameters={"t": 2})
    Traceback (most recent call last):
    ...
    convalgebra.errors.InvalidValueError: t is not a parameter of this module; its parameters: none
    """
    from .modules import COMPOSED_EXAMPLE, Module, free_symbols, parameter_defaults, standard
    from .rules import chain
    from .symbols import I, K, M, N, shown
    from .values import check_values

    for text_, what in ((name, "name"), (summary, "summary"), (title, "title")):
        if not isinstance(text_, str):
            raise InvalidValueError(f"compose {what} = {shown(text_)}: expected text")
    taken = [_by_name()[_key(name)].name] if _key(name) in _by_name() else list(NETWORK_ALIASES.get(_key(name), ()))
    if taken:
        raise InvalidValueError(f"name {name!r} is the article's {' or '.join(taken)} module's;"
                                " give a composed module a name of its own")
    rule = chain(*rules)
    free = free_symbols(rule(standard())) - {K, M, N, I}
    if parameters is None:
        given: dict[sympy.Symbol, Optional[Number]] = {s: None for s in sorted(free, key=str)}
    else:
        given = parameter_defaults(parameters)
        stray = sorted(str(s) for s in given if s not in free)
        if stray:
            raise InvalidValueError(f"{' '.join(stray)} is not a parameter of this module;"
                                    f" its parameters: {' '.join(sorted(map(str, free))) or 'none'}")
    sizes = check_values(example if example is not None else {})
    stray = sorted(str(s) for s in sizes if s not in (K, M, N, I))
    if stray:
        raise InvalidValueError(f"example {' '.join(stray)}: an example gives sizes, K M N I; "
                                "a module's own parameters take their defaults")
    return Module(name, rule, given, title=title or "a module composed of primitive rewrites",
                  summary=summary, example={**COMPOSED_EXAMPLE, **sizes})
