"""Order hooks: the outbox dispatcher, Standard Webhooks signing, retries and dead letters.

Every room's outbox stream is read by one consumer group per configured
endpoint, so each endpoint is acknowledged, retried and dead-lettered on its
own. ``docs/hooks.md`` is the delivery contract; the modules stack as:

* ``events`` – outbox entries parsed into typed events, the webhook body;
* ``signing`` – Standard Webhooks headers;
* ``endpoints`` – the configured endpoints as typed values;
* ``delivery`` – one HTTP attempt and what it means (ack, retry, gone), backoff;
* ``outbox`` – the store side: groups, taking entries, acks, attempt counts;
* ``dead_letters`` – the dead-letter records and re-queueing them;
* ``lane`` / ``dispatcher`` – the background work; ``admin`` / ``commands`` – the CLI.

The package never imports ``aiohttp.web`` (only aiohttp's client).
"""
