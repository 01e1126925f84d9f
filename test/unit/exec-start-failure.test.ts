// The exit code an exec gets when the runtime could not start its process (moby 28's
// setExitCodeFromError): 126 cannot be invoked, 127 not found, 128 anything else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runtimeStartFailureCode } from '../../src/engine/exec/service.js';

test('runc exec errors map to moby 28 exit codes', () => {
  const oci = (why: string) => `OCI runtime exec failed: exec failed: unable to start container process: ${why}: unknown`;
  assert.equal(runtimeStartFailureCode(oci('exec: "nonexistent": executable file not found in $PATH')), 127);
  assert.equal(runtimeStartFailureCode(oci('exec: "/bin/gone": stat /bin/gone: no such file or directory')), 127);
  assert.equal(runtimeStartFailureCode(oci('exec: "/notexec": permission denied')), 126);
  assert.equal(runtimeStartFailureCode(oci('exec: "/etc": is a directory')), 126);
  assert.equal(runtimeStartFailureCode(oci('chdir to cwd ("/etc/passwd") set in config.json failed: not a directory')), 127);
  assert.equal(runtimeStartFailureCode('OCI runtime exec failed: failed to run runc create/exec call for container: exit status 1'), 127);
  // EACCES wins over not-found, as moby tests it first
  assert.equal(runtimeStartFailureCode('open /x: no such file or directory; permission denied'), 126);
  // anything else is moby's exitUnknown
  assert.equal(runtimeStartFailureCode('OCI runtime exec failed: cannot allocate memory: unknown'), 128);
  assert.equal(runtimeStartFailureCode('conmon failed: no sync message'), 128);
});
