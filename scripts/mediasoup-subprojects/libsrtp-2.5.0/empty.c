/* Placeholder object for an empty static library: the real library comes from
   Debian (see meson.build). Defines no symbols. */
typedef int facecast_mediasoup_shim_placeholder;
