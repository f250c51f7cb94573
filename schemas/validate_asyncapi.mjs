// Validate an AsyncAPI document with the official parser (@asyncapi/parser, from package.json).
// Usage: node schemas/validate_asyncapi.mjs schemas/generated/asyncapi.yaml
// Prints every diagnostic ("<severity> <path>: <message>") and a summary line; exits 1 on any
// error or warning, 2 on bad usage.
import { Parser, fromFile } from '@asyncapi/parser';

const SEVERITY = ['error', 'warning', 'info', 'hint'];
const path = process.argv[2];
if (!path) {
  console.error('usage: node schemas/validate_asyncapi.mjs <asyncapi.yaml>');
  process.exit(2);
}

const parser = new Parser();
const { document, diagnostics } = await fromFile(parser, path).parse();
for (const d of diagnostics) {
  console.log(`${SEVERITY[d.severity] ?? d.severity} ${d.path.join('.') || '/'}: ${d.message} [${d.code}]`);
}
const count = (level) => diagnostics.filter((d) => d.severity === level).length;
const errors = count(0);
const warnings = count(1);
if (document === undefined || errors > 0 || warnings > 0) {
  console.log(`INVALID ${path}: ${errors} error(s), ${warnings} warning(s)`);
  process.exit(1);
}
const channels = document.channels().length;
const operations = document.operations().length;
const messages = document.components().messages().length;
console.log(
  `VALID ${path}: AsyncAPI ${document.version()}, ${channels} channels, ${operations} operations, ` +
    `${messages} messages, ${errors} errors, ${warnings} warnings`,
);
