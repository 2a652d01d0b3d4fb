# Multi-stage build: the web app, then a static Go binary, then a small runtime image.
FROM node:20-bookworm-slim AS web
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
RUN npm run build

FROM golang:1.26-bookworm AS server
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/teleconsult ./cmd/teleconsult

FROM gcr.io/distroless/static-debian12:nonroot
WORKDIR /app
COPY --from=server /out/teleconsult /app/teleconsult
COPY --from=web /src/frontend/dist /app/web
ENV ADDR=:8080 WEB_DIR=/app/web DATA_DIR=/data
EXPOSE 8080
ENTRYPOINT ["/app/teleconsult"]
CMD ["serve"]
