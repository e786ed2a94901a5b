// Node 18 has no global `crypto` (browsers and Node 20 do): the SDK's newKey needs it.
import { webcrypto } from 'node:crypto';

if (!globalThis.crypto) globalThis.crypto = webcrypto;
