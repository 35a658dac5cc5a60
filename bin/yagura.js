#!/usr/bin/env node
// Runs the TypeScript CLI in this process through tsx's loader, so the installed command needs
// no build step and signals reach the CLI directly.
import { register } from 'tsx/esm/api';

register();
await import('../server/main.ts');
