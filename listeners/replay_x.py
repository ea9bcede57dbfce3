"""X API v2 as the demo replays it (and the tests' fake builds on): recent search with the real shapes.

`GET /2/tweets/search/recent` answers `{"data": [...], "includes": {"users": [...], "tweets": [...]},
"errors": [...], "meta": {"newest_id", "oldest_id", "result_count", "next_token"}}`, newest first, honouring
`since_id`, `start_time`/`end_time`, `max_results` (10-100), `next_token`, `tweet.fields`, `user.fields` and `expansions`. Queries match
on their plain words (any word), `-is:retweet` and `lang:xx`. Tweets and users are stored in the v2 shape, so
fixture files hold what the real API returns. An author missing from the users (suspended, deleted) is reported
in `errors`, as X does.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from earful_listeners.replay_api import ReplayApi, Reply, Request

_TERM = re.compile(r"(-?)(\w+:)?(\"[^\"]*\"|[^\s()]+)", re.UNICODE)
_WORD = re.compile(r"\w+", re.UNICODE)
_ALWAYS = ("id", "text", "edit_history_tweet_ids")


class XReplay(ReplayApi):
    """Holds tweets and users; answers recent search for one bearer token."""

    def __init__(self, bearer_token: str) -> None:
        super().__init__()
        self.bearer_token = bearer_token
        self.tweets: dict[str, dict[str, Any]] = {}
        self.users: dict[str, dict[str, Any]] = {}

    def add_user(self, user: dict[str, Any]) -> None:
        """Add a v2 user object (id, username, name, public_metrics...)."""
        self.users[str(user["id"])] = user

    def add_tweet(self, tweet: dict[str, Any]) -> None:
        """Add a v2 tweet object with every field it has (the fake returns only the requested ones)."""
        self.tweets[str(tweet["id"])] = tweet

    def load(self, folder: Path) -> XReplay:
        """Load every `*.json` fixture file of a folder: `{"users": [...], "tweets": [...]}`."""
        for path in sorted(Path(folder).glob("*.json")):
            content = json.loads(path.read_text(encoding="utf-8"))
            for user in content.get("users", []):
                self.add_user(user)
            for tweet in content.get("tweets", []):
                self.add_tweet(tweet)
        return self

    def route(self, request: Request) -> Reply:
        if request.headers.get("authorization") != f"Bearer {self.bearer_token}":
            return Reply(401, {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"})
        if request.path.rstrip("/") != "/2/tweets/search/recent":
            return Reply(404, {"title": "Not Found Error", "status": 404, "detail": f"no route {request.path}"})
        params = request.params
        try:
            max_results = int(params.get("max_results", "10"))
        except ValueError:
            max_results = 0
        if not 10 <= max_results <= 100 or not params.get("query"):
            return Reply(400, _invalid("The `max_results` query parameter value must be between 10 and 100"))
        matches = self._match(params["query"])
        since_id = int(params["since_id"]) if params.get("since_id") else None
        if since_id is not None:
            matches = [t for t in matches if int(t["id"]) > since_id]
        if params.get("start_time"):  # RFC 3339 in UTC: the first 19 characters compare in time order
            matches = [t for t in matches if str(t.get("created_at", ""))[:19] >= params["start_time"][:19]]
        if params.get("end_time"):
            matches = [t for t in matches if str(t.get("created_at", ""))[:19] < params["end_time"][:19]]
        token = params.get("next_token")
        if token:
            if not token.startswith("p") or not token[1:].isdigit():
                return Reply(400, _invalid("The `next_token` query parameter value is invalid"))
            matches = [t for t in matches if int(t["id"]) < int(token[1:])]
        page, rest = matches[:max_results], matches[max_results:]
        return Reply(200, self._response(page, bool(rest), params))

    def _match(self, query: str) -> list[dict[str, Any]]:
        words, exclude_retweets, langs = set(), False, set()
        for neg, op, value in _TERM.findall(query):
            if op == "is:" and value == "retweet" and neg:
                exclude_retweets = True
            elif op == "lang:":
                langs.add(value)
            elif not op and not neg and value.upper() not in ("OR", "AND"):
                words |= set(_WORD.findall(value.casefold()))
        found = []
        for tweet in self.tweets.values():
            is_retweet = any(r.get("type") == "retweeted" for r in tweet.get("referenced_tweets", []))
            if exclude_retweets and is_retweet:
                continue
            if langs and tweet.get("lang") not in langs:
                continue
            if words & set(_WORD.findall(tweet.get("text", "").casefold())):
                found.append(tweet)
        return sorted(found, key=lambda t: int(t["id"]), reverse=True)

    def _response(self, page: list[dict[str, Any]], more: bool, params: dict[str, str]) -> dict[str, Any]:
        fields = set(_ALWAYS) | set(filter(None, params.get("tweet.fields", "").split(",")))
        user_fields = {"id", "name", "username"} | set(filter(None, params.get("user.fields", "").split(",")))
        expansions = set(filter(None, params.get("expansions", "").split(",")))
        if not page:
            return {"meta": {"result_count": 0}}
        data = [_pick(t, fields | ({"author_id"} if "author_id" in expansions else set())) for t in page]
        body: dict[str, Any] = {"data": data}
        includes: dict[str, list[dict[str, Any]]] = {}
        errors: list[dict[str, Any]] = []
        referenced: list[dict[str, Any]] = []
        if "referenced_tweets.id" in expansions:
            for tweet in page:
                for ref in tweet.get("referenced_tweets", []):
                    original = self.tweets.get(str(ref.get("id")))
                    if original is not None and original not in referenced:
                        referenced.append(original)
            if referenced:
                includes["tweets"] = [_pick(t, fields | {"author_id"}) for t in referenced]
        author_ids: list[str] = []
        if "author_id" in expansions:
            author_ids += [str(t["author_id"]) for t in page if t.get("author_id")]
        if "referenced_tweets.id.author_id" in expansions:
            author_ids += [str(t["author_id"]) for t in referenced if t.get("author_id")]
        users = []
        for author_id in dict.fromkeys(author_ids):
            user = self.users.get(author_id)
            if user is None:
                errors.append(_missing_user(author_id))
            else:
                users.append(_pick(user, user_fields))
        if users:
            includes["users"] = users
        if includes:
            body["includes"] = includes
        if errors:
            body["errors"] = errors
        meta: dict[str, Any] = {"newest_id": page[0]["id"], "oldest_id": page[-1]["id"], "result_count": len(page)}
        if more:
            meta["next_token"] = f"p{page[-1]['id']}"
        body["meta"] = meta
        return body


def _pick(obj: dict[str, Any], fields: set[str]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k in fields}


def _invalid(message: str) -> dict[str, Any]:
    return {
        "errors": [{"parameters": {}, "message": message}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": "https://api.twitter.com/2/problems/invalid-request",
    }


def _missing_user(author_id: str) -> dict[str, Any]:
    return {
        "value": author_id,
        "detail": f"User has been suspended: [{author_id}].",
        "title": "Forbidden",
        "resource_type": "user",
        "parameter": "author_id",
        "resource_id": author_id,
        "type": "https://api.twitter.com/2/problems/resource-not-found",
    }
