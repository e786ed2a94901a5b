import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import * as sdk from '../livecommerce.js';

const here = new URL('..', import.meta.url);

test('every runtime name the declarations promise is exported, and nothing else', () => {
  const declarations = readFileSync(new URL('livecommerce.d.ts', here), 'utf8');
  const declared = [...declarations.matchAll(/^export declare (?:class|function|const) (\w+)/gm)].map(
    (m) => m[1],
  );
  assert.deepEqual([...new Set(declared)].sort(), Object.keys(sdk).sort());
});

test('the package version and the module version agree', () => {
  const pkg = JSON.parse(readFileSync(new URL('package.json', here), 'utf8'));
  assert.equal(pkg.version, sdk.VERSION);
  assert.equal(pkg.private, true);
  assert.equal(pkg.type, 'module');
});
