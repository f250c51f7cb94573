.PHONY: up test services-stop bench
up:            ## run the whole platform locally
	bash scripts/up.sh
test:          ## set up, then lint, types and tests
	bash scripts/test.sh
services-stop: ## stop the local Kafka, Redis and PostgreSQL
	.venv/bin/paris-live services stop
