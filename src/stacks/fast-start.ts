// Imported first by src/main.ts (the synth entry, run as `node --require tsx/cjs src/main.ts`). Two costs of
// running under tsx that the app does not need, together ~0.8 s CPU of a ~1.5 s synth:
// - tsx turns on Node's source-map support, so Node parses the inline source map of every module it loads;
//   cdktf and the providers ship large ones;
// - tsx's `.js` handler lexes every CommonJS file for ESM syntax, including the providers' multi-megabyte files.
// Dependencies under node_modules are plain CommonJS, so they are compiled directly; a file that is not
// (a SyntaxError before any of it runs) still goes through tsx. The project's own TypeScript always does.
// CARACAL_SYNTH_DEBUG=1 keeps tsx's behaviour (and source-mapped stack traces).
import Module from 'node:module';
import { readFileSync } from 'node:fs';
import { sep } from 'node:path';

type JsLoader = (module: { _compile(content: string, filename: string): unknown }, filename: string) => void;

if (process.env.CARACAL_SYNTH_DEBUG !== '1') {
  process.setSourceMapsEnabled(false);
  const extensions = (Module as unknown as { _extensions: Record<string, JsLoader> })._extensions;
  const tsxJs = extensions['.js'];
  extensions['.js'] = function loadDependency(module, filename) {
    if (filename.includes(`${sep}node_modules${sep}`) && !filename.includes(`${sep}node_modules${sep}tsx${sep}`)) {
      try {
        module._compile(readFileSync(filename, 'utf8'), filename);
        return;
      } catch (error) {
        if (!(error instanceof SyntaxError)) throw error;
      }
    }
    tsxJs.call(this, module, filename);
  };
}

export {};
