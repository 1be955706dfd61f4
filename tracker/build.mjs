// Build the tracking script: esbuild bundles src/index.ts, terser compresses the bundle, and the
// result goes to ../src/postmetric/static/js/script.js with .gz and .br beside it. Prints the size
// report and fails when gzip -9 is over the budget (SPEC §3: 2,000 bytes).
//
// Why terser after esbuild: esbuild does not inline functions that are called once, and the
// modules' wiring functions are exactly that; terser's compressor and mangler take ~75 bytes of
// gzip off the bundle, the difference between keeping every feature and dropping some.
import { build } from 'esbuild'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import { minify } from 'terser'

const BUDGET = 2000
const here = dirname(fileURLToPath(import.meta.url))
const out = join(here, '..', 'src', 'postmetric', 'static', 'js', 'script.js')

const bundle = await build({
  entryPoints: [join(here, 'src', 'index.ts')],
  bundle: true,
  format: 'iife',
  minify: true,
  target: 'es2020',
  sourcemap: false,
  legalComments: 'none',
  charset: 'utf8',
  write: false,
  logLevel: 'warning',
  // The sources are strict code; the "use strict" directive itself is 13 bytes we need not ship.
  tsconfigRaw: { compilerOptions: { alwaysStrict: false } },
})
const minified = await minify(bundle.outputFiles[0].text, {
  ecma: 2020,
  compress: { passes: 3 },
  mangle: true,
  format: { comments: false },
})
const code = Buffer.from(minified.code)

// gzip: Node's zlib writes no file name and mtime 0, so the bytes depend only on the input.
const gz = gzipSync(code, { level: 9 })
const br = brotliCompressSync(code, {
  params: {
    [constants.BROTLI_PARAM_QUALITY]: 11,
    [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
    [constants.BROTLI_PARAM_SIZE_HINT]: code.length,
  },
})

mkdirSync(dirname(out), { recursive: true })
writeFileSync(out, code)
writeFileSync(out + '.gz', gz)
writeFileSync(out + '.br', br)

const pad = (n) => String(n).padStart(5)
console.log(relative(process.cwd(), out))
console.log(`  raw:     ${pad(code.length)} bytes`)
console.log(`  gzip -9: ${pad(gz.length)} bytes`)
console.log(`  brotli:  ${pad(br.length)} bytes (quality 11)`)
console.log(`gzip -9: ${gz.length} / ${BUDGET} bytes`)
if (gz.length > BUDGET) {
  console.log(`over the budget by ${gz.length - BUDGET} bytes`)
  process.exit(1)
}
