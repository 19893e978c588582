"""Named records for the kernels, each declared once.

A kernel record (the compiled portfolio, a thread's scratch, a block's output buffers) is
declared as one list of ``(name, Numba type, meaning)``. From that list come

* a picklable :class:`typing.NamedTuple` class (what Python code builds, and Dask scatters);
* a Numba *structref* type (what jitted code receives: passed by reference, so one pointer rather
  than dozens of arrays by value through every call, which multiplies compile time);
* the conversion between them, :func:`to_struct`, a compiler intrinsic that copies the tuple's
  members into a new structref field by field, in declaration order, sharing the arrays.

Because all three are built from the one list, a field cannot be added to one and forgotten in
another. Structref fields are mutable in jitted code: scalar fields of a scratch record hold a
year's running state (counts, the Student-t scale) under a name, not at a position.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numba import types
from numba.core import cgutils
from numba.experimental import structref
from numba.extending import intrinsic

__all__ = ["KernelStruct", "declare", "to_struct", "Declared", "prefetch"]


@structref.register
class KernelStruct(types.StructRef):
    """Numba type of every kernel record (records differ by their fields)."""

    def preprocess_fields(self, fields):
        return tuple((name, types.unliteral(typ)) for name, typ in fields)


class _Proxy(structref.StructRefProxy):
    """What a kernel record looks like when it comes back to Python (rarely needed)."""


structref.define_boxing(KernelStruct, _Proxy)


def _python_type(typ: types.Type) -> type:
    if isinstance(typ, types.Array):
        return np.ndarray
    if isinstance(typ, types.Boolean):
        return bool
    if isinstance(typ, types.Float):
        return float
    if typ == types.uint64:
        return np.uint64
    return int


class Declared(NamedTuple):
    """A declared record: its fields, its NamedTuple class and its structref type."""

    fields: tuple[tuple[str, types.Type, str], ...]
    tuple_class: type
    struct_type: KernelStruct

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f[0] for f in self.fields)


def declare(name: str, fields: list[tuple[str, types.Type, str]], doc: str) -> Declared:
    """Build the NamedTuple class and the structref type of a record from its field list."""
    tuple_class = NamedTuple(name, [(n, _python_type(t)) for n, t, _ in fields])  # type: ignore[misc]
    lines = [doc, "", "Fields (declared once, in order):", ""]
    lines += [f"- ``{n}``: {meaning}" if meaning else f"- ``{n}``" for n, _, meaning in fields]
    tuple_class.__doc__ = "\n".join(lines)
    struct_type = KernelStruct([(n, t) for n, t, _ in fields])
    return Declared(tuple(fields), tuple_class, struct_type)


@intrinsic
def to_struct(typingctx: Any, struct_type: Any, tup: Any) -> Any:
    """``to_struct(STRUCT_TYPE, namedtuple)``: a new structref with the tuple's members.

    Jit-code only. The tuple's members are cast to the declared field types in declaration
    order (the NamedTuple was built from the same declaration, so the orders agree) and
    reference-counted, so the structref shares the tuple's arrays.
    """
    inst_type = struct_type.instance_type
    names = list(inst_type.field_dict)
    if len(names) != len(tup):
        raise TypeError(f"to_struct: {len(tup)} members for {len(names)} fields")

    def codegen(context, builder, signature, args):
        from numba.experimental.jitclass.base import imp_dtor

        _, tupval = args
        tuptype = signature.args[1]
        model = context.data_model_manager[inst_type.get_data_type()]
        alloc_type = model.get_value_type()
        alloc_size = context.get_abi_sizeof(alloc_type)
        meminfo = context.nrt.meminfo_alloc_dtor(
            builder,
            context.get_constant(types.uintp, alloc_size),
            imp_dtor(context, builder.module, inst_type),
        )
        data_pointer = context.nrt.meminfo_data(builder, meminfo)
        data_pointer = builder.bitcast(data_pointer, alloc_type.as_pointer())
        builder.store(cgutils.get_null_value(alloc_type), data_pointer)
        inst = context.make_helper(builder, inst_type)
        inst.meminfo = meminfo
        value = inst._getvalue()
        data = structref._Utils(context, builder, inst_type).get_data_struct(value)
        for i, field in enumerate(names):
            ftype = inst_type.field_dict[field]
            member = context.cast(builder, builder.extract_value(tupval, i), tuptype[i], ftype)
            context.nrt.incref(builder, ftype, member)
            setattr(data, field, member)
        return value

    return inst_type(struct_type, tup), codegen


@intrinsic
def prefetch(typingctx: Any, arr: Any, idx: Any) -> Any:
    """``prefetch(arr, i)``: ask the CPU to bring the cache line of ``arr[i]`` (a 1-D array of
    records or numbers) closer, without waiting for it (LLVM's ``llvm.prefetch``: read, high
    locality). A hint: no effect on results, no fault on any index. Jit-code only.

    Kernels whose loops read scattered records (a year's defaulted buyers and their exposures)
    issue it a few iterations ahead, so that the loads of several records overlap.
    """
    if not isinstance(arr, types.Array) or arr.ndim != 1 or arr.layout != "C":
        return None
    if not isinstance(idx, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        aryty, idxty = signature.args
        ary = context.make_array(aryty)(context, builder, args[0])
        i = context.cast(builder, args[1], idxty, types.intp)
        ptr = builder.gep(ary.data, [i])  # no bounds check: a prefetch never faults
        ir = cgutils.ir
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [cgutils.voidptr_t, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        builder.call(fn, [builder.bitcast(ptr, cgutils.voidptr_t), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return types.void(arr, idx), codegen
