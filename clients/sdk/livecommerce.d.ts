// Type declarations of the livecommerce JavaScript SDK (livecommerce.js). The frames are
// those of docs/channel.md; a test checks that every server frame type is named here.

export declare const VERSION: string;

export declare class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string);
}

export interface RequestOptions {
  body?: unknown;
  token?: string | null;
  fetchImpl?: typeof fetch;
}

export declare function api<T = any>(
  server: string,
  method: string,
  path: string,
  options?: RequestOptions,
): Promise<T>;
export declare function newKey(): string;

export interface Room {
  id: string;
  title: string;
  anchor: string;
  status: 'created' | 'live' | 'ended' | string;
  [field: string]: unknown;
}
export interface Product {
  id: string;
  title: string;
  price_cents: number;
  currency: string;
  image_url?: string | null;
  [field: string]: unknown;
}
export interface Sale {
  id: string;
  product_id: string;
  price_cents: number;
  currency: string;
  quantity: number;
  left: number;
  per_user_limit: number;
  starts_at: number;
  ends_at: number;
  status: string;
  [field: string]: unknown;
}
export interface ChatMessage {
  type: 'chat';
  id: string;
  user: string;
  role: string;
  text: string;
  ts: number;
}

export declare class RestClient {
  constructor(options?: { server?: string; token?: string | null; fetchImpl?: typeof fetch });
  server: string;
  token: string | null;
  call<T = any>(method: string, path: string, body?: unknown): Promise<T>;
  listRooms(): Promise<{ rooms: Room[]; [field: string]: unknown }>;
  room(room: string): Promise<Room>;
  products(room: string): Promise<{ products: Product[] }>;
  sale(room: string, sale: string): Promise<Sale>;
  order(order: string): Promise<Record<string, unknown>>;
  demoToken(body?: {
    name?: string;
  }): Promise<{ token: string; user: string; role: string; expires_at: number }>;
}

export interface ServerFrames {
  welcome: {
    type: 'welcome';
    room: Room;
    resumed: boolean;
    messages: ChatMessage[];
    likes: number;
    pinned_product: Product | null;
    sales: Sale[];
    viewers: number;
    room_muted: boolean;
    room_muted_until: number | null;
    slow_mode: { interval_s: number };
    you: { user: string | null; role: string; muted_until: number | null; can_chat: boolean };
  };
  chat: ChatMessage;
  chat_deleted: { type: 'chat_deleted'; id: string };
  likes: { type: 'likes'; total: number };
  viewers: { type: 'viewers'; count: number };
  chat_sampling: { type: 'chat_sampling'; on: boolean; per_s: number };
  live: { type: 'live'; room: string; started_at: number | null };
  offline: { type: 'offline'; room: string };
  room_ended: { type: 'room_ended'; room: string };
  room_muted: { type: 'room_muted'; until: number | null };
  room_unmuted: { type: 'room_unmuted' };
  muted: { type: 'muted'; until: number };
  unmuted: { type: 'unmuted' };
  banned: { type: 'banned' };
  unbanned: { type: 'unbanned' };
  slow_mode: { type: 'slow_mode'; interval_s: number };
  resync: { type: 'resync' };
  pong: { type: 'pong'; ts: number };
  error: { type: 'error'; code: string; message: string; until?: number; key?: string };
  buy_result: BuyResult;
  order: { type: 'order'; id: string; status: 'paid' | 'cancelled' | 'expired' };
  sale_started: { type: 'sale_started'; sale: Sale };
  sale_ended: { type: 'sale_ended'; sale: Sale };
  sale_stock: { type: 'sale_stock'; sale: string; left: number };
  sold_out: { type: 'sold_out'; sale: string };
  product_pinned: { type: 'product_pinned'; product: Product };
}
export type ServerFrame = ServerFrames[keyof ServerFrames];

export interface BuyResult {
  type: 'buy_result';
  key: string;
  ok: boolean;
  order?: string;
  expires_at?: number;
  reason?:
    | 'sold_out'
    | 'not_enough_stock'
    | 'limit_reached'
    | 'sale_ended'
    | 'sale_not_started'
    | 'sale_not_found'
    | 'banned';
}

export type ClientFrame =
  | { type: 'chat'; text: string }
  | { type: 'like'; count?: number }
  | { type: 'ping' }
  | { type: 'buy'; sale: string; qty?: number; key: string };

/** 'banned', 'no_room' and 'room_ended' are final: the room does not reconnect. */
export type ChannelState = 'idle' | 'connecting' | 'open' | 'closed' | 'banned' | 'no_room' | 'room_ended';
export interface StateChange {
  state: ChannelState;
  code?: number;
}

export declare class BuyError extends Error {
  readonly code: string;
  readonly frame?: ServerFrames['error'];
}

export interface LiveRoomOptions {
  /** The server's base URL, e.g. https://live.example; '' (default) = this page's origin. */
  server?: string;
  room: string;
  /** A token, or a function returning the current one (null: an anonymous viewer). */
  token?: string | null | (() => string | null);
  WebSocketImpl?: typeof WebSocket;
  now?: () => number;
}

export declare const FIRST_RETRY_MS: number;
export declare const MAX_RETRY_MS: number;
export declare function channelUrl(
  server: string,
  room: string,
  options?: { token?: string | null; resume?: string | null; format?: 'json' },
  here?: { protocol: string; host: string },
): string;
export declare function nextDelay(retryMs: number, random?: () => number): { delay: number; next: number };

export declare class LiveRoom {
  constructor(options: LiveRoomOptions);
  readonly room: string;
  readonly state: ChannelState;
  on<K extends keyof ServerFrames>(type: K, listener: (frame: ServerFrames[K]) => void): () => void;
  on(type: 'frame', listener: (frame: ServerFrame) => void): () => void;
  on(type: 'state', listener: (change: StateChange) => void): () => void;
  connect(): this;
  /** True when sent now; otherwise queued until the next welcome (false when the queue is full too). */
  send(frame: ClientFrame): boolean;
  chat(text: string): boolean;
  like(count?: number): boolean;
  /** Resolves with the buy_result; rejects with BuyError when the frame is refused. */
  buy(sale: string, qty?: number, options?: { key?: string }): Promise<BuyResult>;
  setToken(token: string | null | (() => string | null)): void;
  reconnect(): void;
  close(): void;
}

export type PlayerState = 'connecting' | 'waiting' | 'playing' | 'retrying' | 'stopped';
export declare const PLAYER_TEXTS: Readonly<
  Record<'dropped' | 'unreachable' | 'waiting' | 'signIn' | 'busy' | 'badAnswer' | 'roomEnded', string>
>;
export declare function whepUrl(server: string, room: string): string;
export declare function parseIceServerLinks(header: string | null): RTCIceServer[];

export declare class WhepPlayer {
  constructor(
    video: HTMLVideoElement,
    endpoint: string,
    getToken?: () => string | null,
    onState?: (state: PlayerState, detail?: string) => void,
    options?: { texts?: Partial<typeof PLAYER_TEXTS> },
  );
  start(): void;
  restart(): void;
  stop(): void;
}

export declare function money(minorUnits: number, currency: string): string;
export declare function saleState(sale: Sale, now?: number): 'scheduled' | 'open' | 'sold_out' | 'ended';
export declare function buyOutcome(frame: BuyResult, title?: string): string;

export interface LiveCommerceRoomElement extends HTMLElement {
  /** Attributes: server (default: the SDK's origin), room, token. */
  readonly liveRoom: LiveRoom | null;
  readonly player: WhepPlayer | null;
}

declare global {
  interface HTMLElementTagNameMap {
    'livecommerce-room': LiveCommerceRoomElement;
  }
  interface HTMLElementEventMap {
    'livecommerce-state': CustomEvent<{ channel?: string; player?: string }>;
    'livecommerce-signin': CustomEvent<null>;
    'livecommerce-order': CustomEvent<{ order: string; expires_at: number; sale: string }>;
  }
}
