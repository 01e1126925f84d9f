'use strict';
// The compiled addon (node-gyp builds it at npm install).
module.exports = require('./build/Release/seqpacket.node');
