"""``model.summary()`` in Keras 3's table format."""

from __future__ import annotations


def _fmt_bytes(n_bytes: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n_bytes < 1024 or unit == "GB":
            return f"{n_bytes:.2f} {unit}"
        n_bytes /= 1024
    return f"{n_bytes:.2f} GB"


def _shape(shape) -> str:
    if shape is None:
        return "?"
    if isinstance(shape, list):  # several outputs: Keras prints the list of their shapes
        return "[" + ", ".join(_shape(s) for s in shape) + "]"
    dims = ", ".join("None" if d is None else str(d) for d in shape)
    return f"({dims}{',' if len(shape) == 1 else ''})"


def _shape_parts(shape) -> list[str]:
    """The output-shape cell in pieces that may go on separate lines (one per output)."""
    if not isinstance(shape, list) or len(shape) < 2:
        return [_shape(shape)]
    parts = [_shape(s) for s in shape]
    parts[0], parts[-1] = "[" + parts[0], parts[-1] + "]"
    return parts


def _connections(model) -> dict[int, str] | None:
    """``{id(layer): "inbound[node][tensor], ..."}`` for a branching functional model.

    None when the model reads like a sequence (one input and output, every
    call takes one tensor, no tensor or layer used twice): Keras then leaves
    out the "Connected to" column.
    """
    nodes = getattr(model, "_nodes", None)
    if nodes is None:
        return None
    consumed: dict[int, int] = {}
    calls: dict[int, int] = {}
    for node in nodes:
        calls[id(node.layer)] = calls.get(id(node.layer), 0) + 1
        for t in node.inputs:
            consumed[id(t)] = consumed.get(id(t), 0) + 1
    sequential_like = (
        len(model._inputs) == 1
        and len(model._outputs) == 1
        and all(len(n.inputs) == 1 and not n.multi for n in nodes)
        and all(c == 1 for c in consumed.values())
        and all(c == 1 for c in calls.values())
    )
    if sequential_like:
        return None
    node_index: dict[int, int] = {id(t): 0 for t in model._inputs}
    counters: dict[int, int] = {}
    links: dict[int, list[str]] = {}
    for node in nodes:
        lid = id(node.layer)
        for t in node.inputs:
            producer = t.layer
            links.setdefault(lid, []).append(
                f"{producer.name}[{node_index.get(id(t), 0)}][{t.index or 0}]"
            )
        for tensor in node.siblings or (node,):
            node_index[id(tensor)] = counters.get(lid, 0)
        counters[lid] = counters.get(lid, 0) + 1
    return {lid: ", ".join(items) for lid, items in links.items()}


def _wrap(parts: list[str], width: int, sep: str = ", ") -> list[str]:
    """Join ``parts`` with ``sep`` into lines of at most ``width``.

    A line broken after a part keeps the separator's non-blank end (the comma);
    a part longer than a line is cut into pieces of the line's width.
    """
    lines, current = [], ""
    width = max(width, 2)
    pieces = []
    for part in parts:
        while len(part) > width:
            pieces.append(part[:width])
            part = part[width:]
        pieces.append(part)
    for part in pieces:
        candidate = f"{current}{sep}{part}" if current else part
        if current and len(candidate) + len(sep.rstrip()) > width:
            lines.append(current + sep.rstrip())
            current = part
        else:
            current = candidate
    lines.append(current)
    return lines


def print_summary(model, line_length=None, print_fn=None) -> None:
    print_fn = print_fn or print
    connections = _connections(model)
    if connections is None:
        widths = [33, 26, 15]
        header = ("Layer (type)", "Output Shape", "Param #")
    else:
        widths = [32, 28, 19, 29]
        header = ("Layer (type)", "Output Shape", "Param #", "Connected to")
    if line_length:
        widths[0] = max(10, line_length - sum(widths[1:]) - len(widths) - 1)
    aligns = ["<", "<", ">", "<"][: len(widths)]
    rows = []
    for layer in model.layers:
        # Cells are lists of pieces, wrapped at ", " to fit their column (multi-output
        # shapes and long "Connected to" lists span several lines, as Keras's table does).
        cells = [[layer.name, f"({type(layer).__name__})"], _shape_parts(layer.output_shape),
                 [f"{layer.count_params():,}"]]
        if connections is not None:
            cells.append(connections.get(id(layer), "-").split(", "))
        rows.append(cells)

    def line(left, mid, right, fill):
        return left + mid.join(fill * w for w in widths) + right

    def row(cells, bar="│"):
        columns = [_wrap(c, w - 2, " " if k == 0 else ", ") if isinstance(c, list) else [c]
                   for k, (c, w) in enumerate(zip(cells, widths))]
        height = max(len(c) for c in columns)
        out = []
        for k in range(height):
            parts = [
                f" {(col[k] if k < len(col) else ''):{align}{w - 2}} "
                for col, w, align in zip(columns, widths, aligns)
            ]
            out.append(bar + bar.join(parts) + bar)
        return out

    out = [f'Model: "{model.name}"', line("┏", "┳", "┓", "━")]
    out.extend(row(header, bar="┃"))
    out.append(line("┡", "╇", "┩", "━"))
    for i, cells in enumerate(rows):
        out.extend(row(cells))
        if i < len(rows) - 1:
            out.append(line("├", "┼", "┤", "─"))
    out.append(line("└", "┴", "┘", "─"))
    trainable = sum(v.value.size for v in model.trainable_weights)
    non_trainable = sum(v.value.size for v in model.non_trainable_weights)
    itemsize = 4
    total = trainable + non_trainable
    out.append(f" Total params: {total:,} ({_fmt_bytes(total * itemsize)})")
    out.append(f" Trainable params: {trainable:,} ({_fmt_bytes(trainable * itemsize)})")
    out.append(f" Non-trainable params: {non_trainable:,} ({_fmt_bytes(non_trainable * itemsize)})")
    if model.optimizer is not None and model.optimizer._slots:
        opt = sum(v.size for v in model.optimizer.variables)
        out.append(f" Optimizer params: {opt:,} ({_fmt_bytes(opt * itemsize)})")
    print_fn("\n".join(out))
