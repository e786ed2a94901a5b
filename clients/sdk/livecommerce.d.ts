// Type declarations of the livecommerce JavaScript SDK (livecommerce.js). The frame block is
// generated from the server's event registry by `python -m livecommerce.channel.export`
// (a test fails when it differs); the types it names are declared by hand below.

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
  /** ms: when it was stopped, or ended with its room; null otherwise */
  stopped_at: number | null;
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

export interface Voucher {
  id: string;
  room: string;
  title: string;
  discount_cents: number | null;
  percent_off: number | null;
  quantity: number;
  left: number;
  per_user_limit: number;
  min_spend_cents: number;
  watch_s_required: number;
  expires_at: number | null;
  status: string;
  [field: string]: unknown;
}
export interface Auction {
  id: string;
  room: string;
  product_id: string;
  title: string;
  currency: string;
  start_price_cents: number;
  starts_at: number;
  ends_at: number;
  status: string;
  amount_cents: number | null;
  leader: string | null;
  bids: number;
  min_next_cents: number;
  winner: string | null;
  order: string | null;
  [field: string]: unknown;
}
export interface Giveaway {
  id: string;
  room: string;
  title: string;
  winners_wanted: number;
  product_id: string | null;
  eligibility: { watch_s: number; buyers_only: boolean; keyword: string | null };
  commitment: string;
  status: string;
  ends_at: number;
  seed: string | null;
  winners: string[] | null;
  [field: string]: unknown;
}
export interface WelcomeFormats {
  vouchers: Voucher[];
  pinned_voucher: string | null;
  auctions: Auction[];
  giveaways: Giveaway[];
}
export interface You {
  user: string | null;
  role: string;
  muted_until: number | null;
  can_chat: boolean;
}
export interface ReviewItem {
  id: string;
  user: string;
  text: string;
  [field: string]: unknown;
}
export type BuyRefusal =
  | 'sold_out'
  | 'not_enough_stock'
  | 'limit_reached'
  | 'sale_ended'
  | 'sale_not_started'
  | 'sale_not_found'
  | 'banned'
  | string;

// <registry:frames>
/** Every server → client frame by type (docs/channel.md). */
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
    formats?: WelcomeFormats;
    you: You;
  };
  chat: { type: 'chat'; id: string; user: string; role: string; text: string; ts: number };
  chat_deleted: { type: 'chat_deleted'; id: string };
  likes: { type: 'likes'; total: number };
  viewers: { type: 'viewers'; count: number };
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
  buy_result: {
    type: 'buy_result';
    key: string;
    ok: boolean;
    order?: string;
    expires_at?: number;
    reason?: BuyRefusal;
  };
  order: { type: 'order'; id: string; status: 'paid' | 'cancelled' | 'expired' };
  sale_started: { type: 'sale_started'; sale: Sale };
  sale_ended: { type: 'sale_ended'; sale: Sale };
  sale_stock: { type: 'sale_stock'; sale: string; left: number };
  sold_out: { type: 'sold_out'; sale: string };
  chat_sampling: { type: 'chat_sampling'; on: boolean; per_s: number };
  product_pinned: { type: 'product_pinned'; product: Product };
  chat_held: { type: 'chat_held'; id: string; text: string; ts: number; rule: string };
  chat_approved: { type: 'chat_approved'; id: string; chat_id: string };
  chat_denied: { type: 'chat_denied'; id: string };
  review: { type: 'review'; message: ReviewItem };
  review_resolved: {
    type: 'review_resolved';
    id: string;
    decision: 'approve' | 'deny';
    by: string;
    chat_id: string | null;
  };
  automod: { type: 'automod'; settings: Record<string, unknown> };
  shield: { type: 'shield'; on: boolean };
  report_received: { type: 'report_received'; message: string; duplicate: boolean };
  voucher_dropped: { type: 'voucher_dropped'; voucher: Voucher };
  voucher_pinned: { type: 'voucher_pinned'; voucher: Voucher };
  voucher_ended: { type: 'voucher_ended'; voucher: Voucher };
  voucher_stock: { type: 'voucher_stock'; voucher: string; left: number };
  claim_result: { type: 'claim_result'; key: string; ok: boolean; claim?: string; reason?: string };
  auction_started: { type: 'auction_started'; auction: Auction };
  auction_bid: {
    type: 'auction_bid';
    auction: string;
    leader: string;
    amount_cents: number;
    ends_at: number;
    bids: number;
    min_next_cents: number;
  };
  auction_ended: {
    type: 'auction_ended';
    auction: string;
    winner: string | null;
    amount_cents: number;
    order: string | null;
    reason?: string;
  };
  bid_result: {
    type: 'bid_result';
    key: string;
    auction: string;
    ok: boolean;
    leading: boolean;
    amount_cents?: number;
    reason?: string;
    min_cents?: number;
  };
  giveaway_started: { type: 'giveaway_started'; giveaway: Giveaway };
  giveaway_ended: {
    type: 'giveaway_ended';
    giveaway: string;
    winners: string[];
    seed: string;
    commitment: string;
    entrants?: string[];
    entrants_count: number;
    entrants_truncated?: true;
  };
  enter_result: {
    type: 'enter_result';
    giveaway: string;
    key?: string;
    ok: boolean;
    entrants?: number;
    reason?: string;
  };
  room_order: {
    type: 'room_order';
    id: string;
    status: string;
    user: string;
    product: string;
    qty: number;
    amount_cents: number;
    currency: string;
    source: string;
  };
}
export type ServerFrame = ServerFrames[keyof ServerFrames];
/** Every client → server frame by type (docs/channel.md). */
export interface ClientFrames {
  chat: { type: 'chat'; text: string };
  like: { type: 'like'; count?: number };
  ping: { type: 'ping' };
  buy: { type: 'buy'; sale: string; qty?: number; key: string; voucher_claim?: string };
  view_product: { type: 'view_product'; product: string };
  report: { type: 'report'; message: string; reason?: string };
  claim: { type: 'claim'; voucher: string; key: string };
  bid: { type: 'bid'; auction: string; amount_cents: number; max_cents?: number; key: string };
  enter: { type: 'enter'; giveaway: string; key?: string };
}
export type ClientFrame = ClientFrames[keyof ClientFrames];
// </registry:frames>

export type BuyResult = ServerFrames['buy_result'];
export type ClaimResult = ServerFrames['claim_result'];
export type BidResult = ServerFrames['bid_result'];
export type EnterResult = ServerFrames['enter_result'];

/** 'banned', 'no_room' and 'room_ended' are final: the room does not reconnect. */
export type ChannelState = 'idle' | 'connecting' | 'open' | 'closed' | 'banned' | 'no_room' | 'room_ended';
export interface StateChange {
  state: ChannelState;
  code?: number;
}

/** The refusal of a keyed frame (buy, claim, bid, enter). */
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
  buy(
    sale: string,
    qty?: number,
    options?: { key?: string; voucherClaim?: string },
  ): Promise<BuyResult>;
  /** Resolves with the claim_result (its `claim` goes in a buy's voucher_claim). */
  claim(voucher: string, options?: { key?: string }): Promise<ClaimResult>;
  /** Resolves with the bid_result; maxCents is a proxy maximum. */
  bid(
    auction: string,
    amountCents: number,
    options?: { maxCents?: number; key?: string },
  ): Promise<BidResult>;
  /** Resolves with the enter_result. */
  enter(giveaway: string, options?: { key?: string }): Promise<EnterResult>;
  /** Tells the room's analytics this viewer opened a product's card. */
  viewProduct(product: string): boolean;
  /** Reports a chat message to the moderators; `report_received` answers. */
  report(message: string, reason?: string): boolean;
  setToken(token: string | null | (() => string | null)): void;
  reconnect(): void;
  close(): void;
}

export type PlayerState =
  | 'connecting'
  | 'waiting'
  | 'playing'
  | 'retrying'
  | 'stopped'
  | 'unsupported';
export declare const PLAYER_TEXTS: Readonly<
  Record<
    | 'dropped'
    | 'unreachable'
    | 'waiting'
    | 'signIn'
    | 'busy'
    | 'badAnswer'
    | 'roomEnded'
    | 'unsupported',
    string
  >
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
  /** The room went live (again): start again unless video still arrives on this session. */
  wake(): Promise<void>;
  stop(): void;
}

export declare function money(minorUnits: number, currency: string): string;
export declare function saleState(sale: Sale, now?: number): 'scheduled' | 'open' | 'sold_out' | 'ended';
export declare function buyOutcome(frame: BuyResult, title?: string): string;

/** [text, 'ok' | 'bad']: what to tell the viewer about a result. */
export type Outcome = [string, 'ok' | 'bad'];
export declare function claimOutcome(frame: ClaimResult): Outcome;
export declare function bidOutcome(frame: BidResult): Outcome;
export declare function enterOutcome(frame: EnterResult): Outcome;
export declare function voucherOff(voucher: Voucher, currency?: string): string;
/** "m:ss" or "h:mm:ss" of a time left in ms (0:00 once passed). */
export declare function countdown(ms: number): string;

/** The room's vouchers, auctions and giveaways, kept up to date by their frames. */
export declare class FormatsState {
  vouchers: Map<string, Voucher>;
  auctions: Map<string, Auction>;
  giveaways: Map<string, Giveaway>;
  pinned: string | null;
  claimed: Set<string>;
  entered: Set<string>;
  /** The welcome's `formats`. */
  snapshot(formats: WelcomeFormats | undefined): void;
  /** Applies a voucher_*, auction_* or giveaway_* frame; true when something shown changed. */
  apply(frame: ServerFrame): boolean;
  /** The dropped vouchers, the pinned one first. */
  shownVouchers(): Voucher[];
}

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
