"""One LSTM step laid out for int8 export: per-gate matrix products, and the cell state apart.

A Keras `LSTMCell` computes its four gates with one matrix product and keeps the cell state
`c` in the same graph as everything else, so an int8 converter gives all four gates one
scale and quantizes `c` to 8 bits. Both cost accuracy: measured on `es_en_attention`, the
decoder's gate pre-activations span [-36, 28] (a step of 0.25 for every gate) and its cell
state [-54, 55] (a step of 0.43, where most units stay within +-2), and teacher-forced
int8 steps picked the float model's word only 90% of the time (80% for the 96-step
encoder). TFLite's own integer LSTM kernel keeps its cell state in 16 bits for this reason.

`GatewiseLSTMStep` computes exactly what the cell computes, with one matrix product per gate (each
gets its own int8 scale) and the elementwise update `c' = f c + i g`, `h' = o tanh(c')` in
a `CellStateUpdate` layer that the exporter keeps in float32 (a task lists it in
`edge_float_layers`): a few hundred multiplications a step, while the matrix products, all
the weights, stay int8.
"""

from deepedge.backend import keras

ops = keras.ops


@keras.saving.register_keras_serializable(package="deepedge")
class CellStateUpdate(keras.layers.Layer):
    """The elementwise half of an LSTM step: `c' = f * c + i * g`, `h' = o * tanh(c')`.

    Call arguments:
        gates: `[i, f, g, o]`, the gates after their activations, each `(batch, units)`.
        c: `(batch, units)` the previous cell state.

    Returns:
        `(h', c')`.
    """

    def call(self, gates, c):
        i, f, g, o = gates
        c_next = ops.add(ops.multiply(f, c), ops.multiply(i, g))
        return ops.multiply(o, ops.tanh(c_next)), c_next


class GatewiseLSTMStep(keras.layers.Layer):
    """One step of a Keras `LSTMCell`, computed gate by gate: `(h', c') = step(x, h, c)`.

    The same numbers as `cell(x, [h, c])` in inference. Each gate has its own matrix product
    (its own int8 scale in an export), and the elementwise update happens in the sublayer
    `state_update`, named `f"{cell.name}_state"`, which an export keeps in float32 (list it in
    the task's `edge_float_layers`). The weights are the cell's own: nothing is copied.

    Args:
        cell: a built `keras.layers.LSTMCell` (the `.cell` of an `LSTM` layer).
    """

    def __init__(self, cell, **kwargs):
        kwargs.setdefault("name", f"{cell.name}_step")
        super().__init__(**kwargs)
        self.cell = cell
        self.state_update = CellStateUpdate(name=f"{cell.name}_state")

    def call(self, x, h, c):
        cell, units = self.cell, self.cell.units
        gates = []
        for k in range(4):  # i, f, g (the candidate), o: Keras's order
            # two products, not one of [x, h]: a concatenation would give the inputs and the
            # state one int8 scale, and large embeddings would coarsen the state
            gate = slice(k * units, (k + 1) * units)
            z = ops.add(ops.matmul(x, cell.kernel[:, gate]), ops.matmul(h, cell.recurrent_kernel[:, gate]))
            if cell.use_bias:
                z = ops.add(z, cell.bias[gate])
            gates.append(cell.activation(z) if k == 2 else cell.recurrent_activation(z))
        return self.state_update(gates, c)


class StepSelect(keras.layers.Layer):
    """Rows of per-step values picked by a 0/1 selector: `matmul(selector, values)`.

    Call arguments:
        selector: `(batch, rows, steps)`, a one-hot row per output row (see
            `deepedge.ops.sources`: `source_last` picks a read's final state, `source_order`
            puts a reversed read back in sentence order).
        values: `(batch, steps, units)`, or a list of `steps` tensors `(batch, units)`.

    Returns:
        `(batch, rows, units)`.

    How an unrolled recurrence over a padded sequence takes its state at the sequence's end
    without integer arithmetic or a GATHER by computed index, neither of which XNNPACK takes.
    A layer of its own so that an export keeps it float32 (XNNPACK takes a float
    `BATCH_MATMUL`, not an int8 one; a cell state stacked in int8 would share one wide scale),
    which also picks the values exactly.
    """

    def call(self, selector, values):
        if isinstance(values, (list, tuple)):
            values = ops.stack(values, axis=1)
        return ops.matmul(selector, values)
