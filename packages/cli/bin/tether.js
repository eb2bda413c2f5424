#!/usr/bin/env node
// Committed launcher, so that npm links `tether` and `kubectl-tether` at install time,
// before the build has written dist/.
require('../dist/bin.js');
