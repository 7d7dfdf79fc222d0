"""Follow-up of dissatisfied ratings ("Phản ánh cần xử lý", TT 01/2018 chỉ số 8).

A *case* exists for every response with a dissatisfied answer or a comment that asks for action
(``sipas.cases.rules``). Until someone acts on it the case is *virtual*: the list shows it as open,
computed from the response, so GET pages never write. The first action (assign, record, answer)
creates its ``FollowUpCase`` row; every action adds a ``FollowUpCaseEvent`` with a Vietnamese sentence.
"""
