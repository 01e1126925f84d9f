// Published ports (issue 9 item 4): parsing and create-time checks, host port allocation at
// start (held by bound sockets while the container runs), netavark's port_mappings, and the
// inspect/list views. Networking (../service.ts) stores each running container's mappings.
export type { NetavarkPortMapping, PortMapping, PortProtocol } from './types.js';
export { portWarnings, validatePorts } from './validate.js';
export { allocatePorts, releasePorts, holdPortsAgain, ephemeralPortRange, type AllocateOptions } from './allocate.js';
export { toNetavarkPortMappings } from './netavark.js';
export { inspectPorts, listPorts, type ListedPort, type PortBindingView, type PortViewOptions } from './views.js';
export { parsePortFilter, portFiltersMatch } from './filter.js';
export { portRequests, type PortRequest } from './requests.js';
