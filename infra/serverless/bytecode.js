'use strict';

// Compiled bytecode in every package `serverless package` (and so `serverless deploy`) builds:
// once the function and layer zips are written, and before their hashes go into the
// CloudFormation template, infra/serverless/bytecode.py adds __pycache__/*.cpython-311.pyc
// (unchecked-hash) for each module, compiled by the runtime's Python version. Lambda's
// /var/task is read-only, so without them every cold start compiles what it imports.
const { spawnSync } = require('child_process');
const path = require('path');

class Bytecode {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = {
      'after:package:createDeploymentArtifacts': () => this.compile(),
    };
  }

  run(prefix, artifacts) {
    if (artifacts.length === 0) return;
    const runtime = this.serverless.service.provider.runtime;
    const script = path.join(__dirname, 'bytecode.py');
    const python = process.env.QUARRY_PYTHON || 'python3';
    const args = [script, '--runtime', runtime, '--prefix', prefix, ...artifacts];
    const done = spawnSync(python, args, { encoding: 'utf8' });
    if (done.error || done.status !== 0) {
      const why = done.error ? done.error.message : (done.stderr || done.stdout).trim();
      throw new this.serverless.classes.Error(`bytecode for ${runtime} failed: ${why}`);
    }
  }

  compile() {
    const service = this.serverless.service;
    const functions = service
      .getAllFunctions()
      .map((name) => service.getFunction(name))
      .filter((fn) => fn.package && fn.package.artifact && !fn.image)
      .map((fn) => fn.package.artifact);
    const layers = Object.values(service.layers || {})
      .filter((layer) => layer && layer.package && layer.package.artifact)
      .map((layer) => layer.package.artifact);
    this.run('/var/task', [...new Set(functions)]);
    this.run('/opt', layers);
  }
}

module.exports = Bytecode;
