import { EventEmitter } from 'node:events';

/** A Docker event as /events streams it (api/types/events). */
export interface DockerEvent {
  Type: 'container' | 'image' | 'network' | 'volume' | 'daemon';
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  time: number;
  timeNano: number;
  /** Deprecated fields that compose v1 still reads. */
  status?: string;
  id?: string;
  from?: string;
}

/** How many past events /events?since= can replay, as moby keeps (daemon/events eventsLimit). */
const HISTORY_LIMIT = 256;

/** The daemon's event log: a bounded history for since/until and live subscribers. */
export class EventBus {
  private readonly history: DockerEvent[] = [];
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  emit(type: DockerEvent['Type'], action: string, actorId: string, attributes: Record<string, string> = {}): DockerEvent {
    const nowNs = BigInt(Date.now()) * 1_000_000n + process.hrtime.bigint() % 1_000_000n;
    const ev: DockerEvent = {
      Type: type,
      Action: action,
      Actor: { ID: actorId, Attributes: attributes },
      scope: 'local',
      time: Number(nowNs / 1_000_000_000n),
      timeNano: Number(nowNs),
    };
    if (type === 'container') {
      ev.status = action;
      ev.id = actorId;
      if (attributes.image) ev.from = attributes.image;
    } else if (type === 'image') {
      ev.status = action;
      ev.id = actorId;
    }
    this.history.push(ev);
    if (this.history.length > HISTORY_LIMIT) this.history.shift();
    this.emitter.emit('event', ev);
    return ev;
  }

  /** Past events, oldest first. */
  past(): readonly DockerEvent[] {
    return this.history;
  }

  subscribe(listener: (ev: DockerEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }
}
