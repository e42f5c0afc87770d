import { defineConfig } from 'vite';

// The console is served by `ciel serve` from web/dist: index.html at "/", hashed files under
// "/assets/" (served immutable). No inline script anywhere: the server's Content-Security-Policy
// allows the page's own files only. A second entry, src/linkupload.ts, is the upload form of the
// public link page that the server renders; the server finds its hashed name in the manifest
// (dist/.vite/manifest.json, key "src/linkupload.ts").
export default defineConfig({
  base: '/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    modulePreload: { polyfill: false },
    target: 'es2022',
    reportCompressedSize: false,
    manifest: true,
    rollupOptions: { input: ['index.html', 'src/linkupload.ts'] },
  },
});
