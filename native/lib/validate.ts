/** The validation helpers of @vall-e/core, for the wrappers' checks before a value reaches native code. */
export {
  describeValue,
  expectFloat32Array,
  expectInteger,
  expectOneOf,
  expectThreads,
  invalid,
} from "@vall-e/core";
