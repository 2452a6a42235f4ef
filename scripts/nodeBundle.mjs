// esbuild settings for running our TypeScript in Node as one ESM file: dependencies stay external
// (resolved from node_modules at run time), the syntax target is the running Node. Shared by the
// demo, the bench and the tests that run code in a child process.
export const NODE_BUNDLE = Object.freeze({
  bundle: true,
  platform: 'node',
  format: 'esm',
  packages: 'external',
  target: `node${process.versions.node.split('.')[0]}`,
})
