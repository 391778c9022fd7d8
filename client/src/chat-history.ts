/**
 * Chat history per image, kept in workspace storage (a Memento). The daemon's session id is kept
 * too, so a conversation continues while the daemon lives; a stale id is simply replaced.
 */
export interface Store {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): Thenable<void> | Promise<void>;
}

export interface ChatEntry {
  role: "user" | "assistant";
  text: string;
  interrupted?: boolean;
}

export interface Conversation {
  sessionId?: string;
  entries: ChatEntry[];
}

export const MAX_ENTRIES = 200;

export class ChatHistory {
  constructor(private readonly store: Store) {}

  private key(image: string): string {
    return `xraygpt.chat:${image}`;
  }

  get(image: string): Conversation {
    const c = this.store.get<Conversation>(this.key(image));
    return c && Array.isArray(c.entries) ? c : { entries: [] };
  }

  async append(image: string, entry: ChatEntry, sessionId?: string): Promise<number> {
    const c = this.get(image);
    const entries = [...c.entries, entry].slice(-MAX_ENTRIES);
    await this.store.update(this.key(image), { sessionId: sessionId ?? c.sessionId, entries });
    return entries.length - 1;
  }

  async setSession(image: string, sessionId: string | undefined): Promise<void> {
    const c = this.get(image);
    await this.store.update(this.key(image), { ...(sessionId ? { sessionId } : {}), entries: c.entries });
  }

  async clear(image: string): Promise<void> {
    await this.store.update(this.key(image), undefined);
  }
}
