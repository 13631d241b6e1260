// A small typed helper to assemble ONNX graphs from TypeScript with onnx-proto (protobufjs).
// Used by the default pack's render graph; kept generic so later stages can build their graphs the same way.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** ONNX tensor element types we use (values of onnx.TensorProto.DataType). */
export const ElemType = {
  FLOAT: 1,
  UINT8: 2,
  INT64: 7,
} as const;
export type ElemTypeValue = (typeof ElemType)[keyof typeof ElemType];

export type AttributeValue = number | string | readonly number[] | { readonly int: number } | { readonly ints: readonly number[] };

export interface GraphIo {
  readonly name: string;
  readonly elemType: ElemTypeValue;
  readonly dims: readonly number[];
}

export interface ModelOptions {
  readonly opset: number;
  readonly producer?: string;
  readonly docString?: string;
}

const encoder = new TextEncoder();

function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/**
 * Collects nodes and initializers, names intermediate values uniquely, and serialises a ModelProto.
 * Integers in attributes: pass `{ int: n }` / `{ ints: [...] }`; a bare number is a float attribute and a bare
 * number array is a float list, so the intent is always explicit.
 */
export class OnnxGraphBuilder {
  readonly #nodes: onnxProto.onnx.INodeProto[] = [];
  readonly #initializers: onnxProto.onnx.ITensorProto[] = [];
  readonly #names = new Set<string>();
  #counter = 0;

  /** A value name with the given stem that is not taken yet (it is claimed by the op or initializer using it). */
  fresh(stem: string): string {
    let name = `${stem}_${this.#counter++}`;
    while (this.#names.has(name)) name = `${stem}_${this.#counter++}`;
    return name;
  }

  /** Adds a float32 initializer and returns its name. */
  float(name: string, data: Float32Array, dims: readonly number[]): string {
    return this.#initializer(name, ElemType.FLOAT, bytesOf(data), dims, data.length);
  }

  /** Adds an int64 initializer (shapes, slice bounds) and returns its name. */
  int64(name: string, values: readonly number[], dims: readonly number[] = [values.length]): string {
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    return this.#initializer(name, ElemType.INT64, bytesOf(data), dims, data.length);
  }

  /** Adds a uint8 initializer and returns its name. */
  uint8(name: string, data: Uint8Array, dims: readonly number[]): string {
    return this.#initializer(name, ElemType.UINT8, data, dims, data.length);
  }

  /** A float32 scalar constant (rank 0). */
  scalar(stem: string, value: number): string {
    return this.float(this.fresh(stem), Float32Array.of(value), []);
  }

  /** Adds a node with one output and returns the output's name. */
  op(opType: string, inputs: readonly string[], attributes: Record<string, AttributeValue> = {}, outName?: string): string {
    const out = outName ?? this.fresh(opType.toLowerCase());
    this.#claim(out);
    this.#nodes.push({
      opType,
      name: `${opType}_${this.#nodes.length}`,
      input: [...inputs],
      output: [out],
      attribute: Object.entries(attributes).map(([key, value]) => attribute(key, value)),
    });
    return out;
  }

  /** Serialises the graph into ModelProto bytes. */
  build(graphName: string, inputs: readonly GraphIo[], outputs: readonly GraphIo[], options: ModelOptions): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: options.producer ?? 'facecast',
      docString: options.docString ?? '',
      opsetImport: [{ domain: '', version: options.opset }],
      graph: {
        name: graphName,
        node: this.#nodes,
        initializer: this.#initializers,
        input: inputs.map(valueInfo),
        output: outputs.map(valueInfo),
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }

  #claim(name: string): void {
    if (this.#names.has(name)) throw new Error(`duplicate ONNX value name '${name}'`);
    this.#names.add(name);
  }

  #initializer(name: string, dataType: number, raw: Uint8Array, dims: readonly number[], count: number): string {
    const expected = dims.reduce((a, b) => a * b, 1);
    if (expected !== count) throw new Error(`initializer '${name}': ${count} values for dims [${dims.join(', ')}]`);
    this.#claim(name);
    // protobufjs keeps a reference to rawData; copy so later mutation of the caller's array cannot leak in.
    this.#initializers.push({ name, dataType, dims: [...dims], rawData: raw.slice() });
    return name;
  }
}

function attribute(name: string, value: AttributeValue): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'number') return { name, type: T.FLOAT, f: value };
  if (typeof value === 'string') return { name, type: T.STRING, s: encoder.encode(value) };
  if ('int' in value) return { name, type: T.INT, i: value.int };
  if ('ints' in value) return { name, type: T.INTS, ints: [...value.ints] };
  return { name, type: T.FLOATS, floats: [...value] };
}

function valueInfo(io: GraphIo): onnxProto.onnx.IValueInfoProto {
  return {
    name: io.name,
    type: { tensorType: { elemType: io.elemType, shape: { dim: io.dims.map((d) => ({ dimValue: d })) } } },
  };
}
