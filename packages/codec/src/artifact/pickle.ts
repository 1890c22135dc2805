/**
 * A reader for the subset of Python's pickle format that data files use: numbers, strings, bytes, tuples, lists,
 * dicts, globals and REDUCE/BUILD on them, memo, persistent ids (Python's `pickle.py` `_Unpickler`, protocols 0–5
 * minus the opcodes such files never hold). A pickle can name and call any function, so nothing is ever looked up:
 * the caller lists the globals it allows and what REDUCE on each gives, and every other global is refused — the
 * file is data, never code.
 *
 * Two callers: the Python tooling's `.enc` files (written by `vall_e/emb/process.py` `process_job`, read by
 * `vall_e/data.py` `_load_artifact`) — a .npy holding a 0-d object array whose element is a pickled dict with `codes`
 * (uint16, (1, 8, T)) and `metadata`, numpy arrays rebuilt through numpy's `_reconstruct` and `dtype`
 * (`unpickleNumpy`) — and the `data.pkl` of PyTorch's `torch.save` zip files (`../weights/torch-zip.ts`).
 */
import { CodesFormatError } from "../errors.js";

/** A global named by the pickle (and allowed by the caller); REDUCE on it calls the caller's function. */
export class PickleGlobal {
  constructor(readonly name: string) {}
}

export interface UnpickleOptions {
  /**
   * The globals the pickle may name (`module.name`), each with what REDUCE on it gives for its argument tuple;
   * `null`: the global may be named (e.g. a type tag inside a persistent id) but not called.
   */
  globals: ReadonlyMap<string, ((args: unknown[]) => unknown) | null>;
  /** Said when another global is refused, e.g. "only numpy arrays are accepted". */
  accepted: string;
  /** BUILD (`__setstate__`): apply `state` to `target`; without it BUILD is refused. */
  build?: (target: unknown, state: unknown) => void;
  /** The object a persistent id (BINPERSID / PERSID) stands for; without it persistent ids are refused. */
  persistentLoad?: (pid: unknown) => unknown;
  /** The error to throw for a malformed or refused pickle, given what is wrong. */
  error: (what: string) => Error;
}

/** A numpy array rebuilt from a pickle. */
export class PickledArray {
  shape: number[] = [];
  descr = "";
  /** Raw little/big-endian bytes for numeric arrays, or the element list for object arrays. */
  data: Uint8Array | unknown[] = new Uint8Array(0);
}

class PickledDtype {
  constructor(
    public kind: string,
    public byteOrder = "|",
  ) {}
}

const MARK = Symbol("mark");

/** Unpickle a `.enc` file's payload: numpy arrays and plain data only; errors are `CodesFormatError`s. */
export function unpickleNumpy(bytes: Uint8Array, source: string): unknown {
  const fail = (what: string) => new CodesFormatError(`${source}: ${what}`);
  const reconstruct = () => new PickledArray();
  return unpickle(bytes, {
    globals: new Map<string, ((args: unknown[]) => unknown) | null>([
      ["numpy.core.multiarray._reconstruct", reconstruct],
      ["numpy._core.multiarray._reconstruct", reconstruct],
      ["numpy.ndarray", null],
      [
        "numpy.dtype",
        (args) => {
          if (typeof args[0] !== "string") throw fail("malformed numpy dtype in the pickle");
          return new PickledDtype(args[0]);
        },
      ],
      [
        "_codecs.encode",
        (args) => {
          if (typeof args[0] !== "string") throw fail("malformed bytes in the pickle");
          return Uint8Array.from(args[0], (char) => char.charCodeAt(0) & 0xff);
        },
      ],
    ]),
    accepted: "only numpy arrays are accepted",
    build: (target, state) => buildNumpy(target, state, fail),
    error: fail,
  });
}

/** Unpickle `bytes` with the globals, BUILD and persistent ids `options` allows. */
export function unpickle(bytes: Uint8Array, options: UnpickleOptions): unknown {
  const fail = options.error;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: unknown[] = [];
  const memo = new Map<number, unknown>();
  let pos = 0;
  const need = (n: number) => {
    if (pos + n > bytes.length) throw fail("the pickle is truncated");
  };
  const u8 = () => {
    need(1);
    return bytes[pos++] as number;
  };
  const u16 = () => {
    need(2);
    const v = view.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const u32 = () => {
    need(4);
    const v = view.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const take = (n: number) => {
    need(n);
    const out = bytes.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  const line = () => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) throw fail("the pickle is truncated");
    const text = new TextDecoder("latin1").decode(bytes.subarray(pos, end));
    pos = end + 1;
    return text;
  };
  const pop = () => {
    if (stack.length === 0) throw fail("malformed pickle (stack underflow)");
    return stack.pop();
  };
  const popMark = () => {
    const at = stack.lastIndexOf(MARK);
    if (at < 0) throw fail("malformed pickle (no mark)");
    const items = stack.splice(at);
    items.shift();
    return items;
  };
  const top = () => {
    if (stack.length === 0) throw fail("malformed pickle (stack underflow)");
    return stack[stack.length - 1];
  };
  const global = (module: string, name: string): PickleGlobal => {
    const full = `${module}.${name}`;
    if (!options.globals.has(full)) throw fail(`unexpected pickle global '${full}' (${options.accepted})`);
    return new PickleGlobal(full);
  };
  const persistent = (pid: unknown) => {
    if (!options.persistentLoad) throw fail("unexpected persistent id in the pickle");
    return options.persistentLoad(pid);
  };
  const utf8 = (data: Uint8Array) => new TextDecoder("utf-8", { fatal: true }).decode(data);

  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        u8();
        break;
      case 0x95: // FRAME
        take(8);
        break;
      case 0x2e: // STOP
        return pop();
      case 0x63: // GLOBAL
        stack.push(global(line(), line()));
        break;
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof name !== "string" || typeof module !== "string") throw fail("malformed pickle (STACK_GLOBAL)");
        stack.push(global(module, name));
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const key = op === 0x68 ? u8() : u32();
        if (!memo.has(key)) throw fail(`malformed pickle (memo ${key} missing)`);
        stack.push(memo.get(key));
        break;
      }
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x4a: // BININT
        need(4);
        stack.push(view.getInt32(pos, true));
        pos += 4;
        break;
      case 0x8a: {
        // LONG1
        const data = take(u8());
        let value = 0n;
        for (let i = data.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(data[i] as number);
        if (data.length > 0 && ((data[data.length - 1] as number) & 0x80) !== 0) value -= 1n << BigInt(8 * data.length);
        const number = Number(value);
        if (!Number.isSafeInteger(number)) throw fail("an integer in the pickle is out of range");
        stack.push(number);
        break;
      }
      case 0x47: // BINFLOAT (big-endian)
        need(8);
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x58: // BINUNICODE
        stack.push(utf8(take(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(utf8(take(u8())));
        break;
      case 0x55: // SHORT_BINSTRING (Python 2 str, latin-1)
        stack.push(new TextDecoder("latin1").decode(take(u8())));
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(take(u8()).slice());
        break;
      case 0x42: // BINBYTES
        stack.push(take(u32()).slice());
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        break;
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x74: // TUPLE
        stack.push(popMark());
        break;
      case 0x85: // TUPLE1
        stack.push([pop()]);
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push([pop(), b]);
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push([pop(), b, c]);
        break;
      }
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x61: {
        // APPEND
        const item = pop();
        const list = top();
        if (!Array.isArray(list)) throw fail("malformed pickle (APPEND)");
        list.push(item);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        const list = top();
        if (!Array.isArray(list)) throw fail("malformed pickle (APPENDS)");
        list.push(...items);
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new Map<unknown, unknown>());
        break;
      case 0x73: {
        // SETITEM
        const value = pop();
        const key = pop();
        const dict = top();
        if (!(dict instanceof Map)) throw fail("malformed pickle (SETITEM)");
        dict.set(key, value);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        const dict = top();
        if (!(dict instanceof Map) || items.length % 2) throw fail("malformed pickle (SETITEMS)");
        for (let i = 0; i < items.length; i += 2) dict.set(items[i], items[i + 1]);
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const callable = pop();
        if (!(callable instanceof PickleGlobal) || !Array.isArray(args)) throw fail("malformed pickle (REDUCE)");
        const call = options.globals.get(callable.name);
        if (!call) throw fail(`cannot call '${callable.name}' in the pickle`);
        stack.push(call(args));
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        const target = top();
        if (!options.build) throw fail("malformed pickle (BUILD on an unexpected object)");
        options.build(target, state);
        break;
      }
      case 0x51: // BINPERSID
        stack.push(persistent(pop()));
        break;
      case 0x50: // PERSID (protocol 0: the id is an ASCII line)
        stack.push(persistent(line()));
        break;
      default:
        throw fail(`unsupported pickle opcode 0x${op.toString(16).padStart(2, "0")} at byte ${pos - 1}`);
    }
  }
}

function buildNumpy(target: unknown, state: unknown, fail: (what: string) => Error): void {
  if (target instanceof PickledDtype) {
    if (Array.isArray(state) && typeof state[1] === "string") target.byteOrder = state[1];
    return;
  }
  if (target instanceof PickledArray) {
    // (version, shape, dtype, is_fortran, data)
    if (!Array.isArray(state) || state.length < 5) throw fail("malformed numpy array state in the pickle");
    const [, shape, dtype, fortran, data] = state;
    if (
      !Array.isArray(shape) ||
      !shape.every((d) => Number.isInteger(d) && d >= 0) ||
      !(dtype instanceof PickledDtype)
    ) {
      throw fail("malformed numpy array state in the pickle");
    }
    if (fortran) throw fail("Fortran-ordered arrays are not supported");
    target.shape = shape as number[];
    const order = dtype.byteOrder === "|" || dtype.byteOrder === "=" ? "<" : dtype.byteOrder;
    target.descr = dtype.kind.startsWith("O") ? "|O" : `${order}${dtype.kind.replace(/^[<>|=]/, "")}`;
    if (data instanceof Uint8Array || Array.isArray(data)) target.data = data;
    else throw fail("malformed numpy array data in the pickle");
    return;
  }
  throw fail("malformed pickle (BUILD on an unexpected object)");
}
