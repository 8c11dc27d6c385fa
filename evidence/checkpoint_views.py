"""A checkpoint from the DPO's own archive, held against the ledger (evidence/checkpoints.py)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.access import org_view
from consents.views import ledger_check_told

from . import checkpoints
from .forms import CheckpointUploadForm


@org_view("verify_ledger")
@require_POST
def checkpoint_upload(request):
    org = request.organisation
    form = CheckpointUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose a checkpoint file to upload."))
        return redirect("consents:ledger", org_slug=org.slug)
    uploaded = form.cleaned_data["file"]
    try:
        # Read one byte past the limit: enough to refuse a large file without holding it all.
        data = uploaded.read(checkpoints.UPLOAD_LIMIT + 1)
        check = checkpoints.checkpoint_upload(organisation=org, data=data, uploaded_by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("consents:ledger", org_slug=org.slug)
    return ledger_check_told(
        request,
        check,
        _(
            "The ledger still holds the uploaded checkpoint and has not gone back since:"
            " %(n)s events verified."
        )
        % {"n": check.events_checked},
    )
