// Imported first by src/main.ts. tsx turns on Node's source-map support, which makes Node parse the inline
// source map of every module it loads; cdktf and the providers ship large ones (~0.3 s of a 1 s synth).
// The app's expected failures are ValidationErrors printed without a stack; set CARACAL_SOURCE_MAPS=1 to debug.
if (process.env.CARACAL_SOURCE_MAPS !== '1') process.setSourceMapsEnabled(false);

export {};
