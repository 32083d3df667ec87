"""Reading study and space files: PyYAML's safe loader, refusing duplicate keys.

YAML says the keys of a mapping are unique, but PyYAML keeps the last of two
equal keys without a word: ``epochs: 5`` followed further down by ``epochs: 50``
would silently run 50. :class:`UniqueKeyLoader` raises :class:`DuplicateKeyError`
naming the key and both lines instead. Merge keys (``<<: *defaults``) may still
be overridden, as YAML intends.
"""

from __future__ import annotations

import yaml

__all__ = ["DuplicateKeyError", "UniqueKeyLoader", "load_yaml"]


class DuplicateKeyError(yaml.YAMLError):
    """A mapping names the same key twice (the message names both lines)."""


class UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a key repeated within one mapping."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            lines = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                line = key_node.start_mark.line + 1
                try:
                    first = lines.get(key)
                except TypeError:  # an unhashable key: the base class reports it
                    continue
                if first is not None:
                    raise DuplicateKeyError(f"duplicate key {key!r} at lines {first} and {line} "
                                            "(a key may appear once in a mapping)")
                lines[key] = line
        return super().construct_mapping(node, deep=deep)


def load_yaml(text: str):
    """The document in ``text``, as ``yaml.safe_load`` reads it, duplicate keys refused.

    Examples
    --------
    >>> load_yaml("a: 1\\nb: 2")
    {'a': 1, 'b': 2}
    >>> load_yaml("a: 1\\nb: 2\\na: 3")
    Traceback (most recent call last):
    ...
    automl.search._yaml.DuplicateKeyError: duplicate key 'a' at lines 1 and 3 (a key may appear once in a mapping)
    """
    return yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
