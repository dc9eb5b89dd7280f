"""An attachment's bytes as a response, the same for the API and the pages: served with the type
sniffed at upload, ``X-Content-Type-Options: nosniff``, a sandboxing Content-Security-Policy, and as a
download (images and PDF inline): nothing a customer uploads can run in a browser as caseflow's page."""
from __future__ import annotations

import io

from flask import Response, send_file

from cases.casework import attachments

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private, no-store",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def download_response(download: attachments.Download) -> Response:
    """An attachment's bytes as a response (the API's and the pages'): images and PDF inline,
    everything else as a download, never run as a page of ours."""
    item = download.attachment
    response = send_file(io.BytesIO(download.content), mimetype=item.content_type,
                         as_attachment=not download.inline, download_name=item.filename,
                         conditional=False, etag=False, max_age=0)
    response.headers["Content-Type"] = item.content_type  # as stored: its charset, none added
    response.headers.update(SECURITY_HEADERS)
    return response
