// The default avatar pack: enrollment (face-api landmarks -> framed reference, masks, motion basis) and a
// real-time CPU renderer (one ONNX graph: GridSample over a coefficient-weighted flow basis + mouth interior).
// This file is the folder's single entry; import from here, not from the files beside it.
export type {
  AvatarMasks,
  BasisField,
  Box,
  FeatureWindow,
  FieldSide,
  Lattice,
  DetectOptions,
  DetectedFace,
  EnrollOptions,
  EnrolledAvatar,
  FaceDetector,
  MotionBasis,
  MouthGeometry,
  Point,
} from './types.ts';
export {
  COEFFICIENTS,
  COEFFICIENT_COUNT,
  COEFFICIENT_NAMES,
  UnknownCoefficientError,
  coefficientIndex,
  coefficientVector,
  neutralCoefficients,
  normalizeCoefficients,
  type CoefficientName,
  type CoefficientSpec,
} from './coefficients.ts';
export { FaceIndexError, ImageDecodeError, MultipleFacesError, NoFaceError, RendererClosedError } from './errors.ts';
export { DESCRIPTOR_LENGTH, LANDMARK_COUNT, detectFaces, faceApiModelDir, loadFaceModels } from './face.ts';
export {
  DEFAULT_AVATAR_SIZE,
  DEFAULT_CACHE_DIR,
  MAX_FACE_INDEX,
  avatarId,
  builtinPortraitPath,
  enrollPortrait,
  frameCrop,
  type EnrollPortraitOptions,
  type EnrollStage,
} from './enroll.ts';
export { BASIS_VERSION, MOTIONS, buildMotionBasis, type LipMotion, type LipMotionDefinition, type MotionDefinition } from './basis.ts';
export { POSE_ANGLE_DEG } from './pose.ts';
export { buildMasks } from './masks.ts';
export {
  RENDER_INPUT,
  RENDER_INPUT_OFFSETS,
  RENDER_OPSET,
  RENDER_OUTPUT_I420,
  RENDER_OUTPUT_RGB,
  buildAvatarRenderGraph,
  buildConvertGraph,
  buildRenderGraph,
  windowOffsets,
  type RenderGraphSpec,
} from './graph.ts';
export { DefaultRenderer, type DefaultRendererOptions, type RenderedFrame } from './renderer.ts';
export { defaultPack } from './pack.ts';
