// Runs the CSAF 2.0 reference validator (@secvisogram/csaf-validator-lib, BSI) over a document: the strict
// schema test, every mandatory test and every optional test. Prints each error and warning with its test and
// path as JSON lines; exits 1 if there is any. Usage: node reference.mjs LIBDIR FILE
import { readFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import path from 'node:path'

const [lib, file] = process.argv.slice(2)
const load = (m) => import(pathToFileURL(path.join(lib, m)).href)
const validateStrict = (await load('validateStrict.js')).default
const mandatory = await load('mandatoryTests.js')
const optional = await load('optionalTests.js')
const { csaf_2_0_strict } = await load('schemaTests.js')
const doc = JSON.parse(readFileSync(file, 'utf8'))
const result = await validateStrict([csaf_2_0_strict, ...Object.values(mandatory), ...Object.values(optional)], doc)
let bad = 0
for (const t of result.tests) {
  for (const kind of ['errors', 'warnings']) {
    for (const e of t[kind] ?? []) {
      bad++
      console.log(JSON.stringify({ test: t.name, kind, path: e.instancePath, message: e.message }))
    }
  }
}
process.exit(bad ? 1 : 0)
